"""Exporting the corpus to a file: JSON Lines, CSV or Parquet, in constant memory.

>>> from storage.export import export_articles
>>> with Session() as session:
...     export_articles(session, ArticleFilter(source="courier"), "courier.parquet", "parquet")

Rows stream from the database (``iter_articles``: a server-side cursor on PostgreSQL) and are
written as they come: Parquet in row groups of ``PARQUET_BATCH`` rows. The file appears only when
complete: it is written to a temporary file in the same directory and then renamed over the target,
so an error or a kill leaves no partial export behind.
"""

from __future__ import annotations

import contextlib
import functools
import csv
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from storage import archive
from storage.queries import ArticleFilter, ArticleRow, iter_articles

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["EXPORT_COLUMNS", "EXPORT_FORMATS", "PARQUET_BATCH", "ExportError", "export_articles", "export_to_stream", "is_binary"]

EXPORT_FORMATS = ("jsonl", "csv", "parquet", "warc")
#: Every article field, in ArticleRow order (the search snippet is not exported).
EXPORT_COLUMNS = tuple(f.name for f in fields(ArticleRow) if f.name != "snippet")
PARQUET_BATCH = 5_000
_LIST_COLUMNS = ("authors", "tags")
_TIME_COLUMNS = ("published_at", "modified_at", "first_seen_at", "last_seen_at", "removed_at")


class ExportError(Exception):
    """An export that cannot be done, explained in one line (existing file, missing pyarrow, ...)."""


def export_articles(
    session: Session,
    f: ArticleFilter,
    path: str | os.PathLike[str],
    fmt: str,
    *,
    force: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write the articles matching ``f`` to ``path``; returns how many were written.

    Refuses to replace an existing file unless ``force``. ``on_progress(n)`` is called after
    each batch with the rows written so far.
    """
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    target = _writable_target(Path(path))
    if target.exists() and not force:
        raise ExportError(f"{path} exists; pass --force to replace it")
    if not target.parent.is_dir():
        raise ExportError(f"no directory {target.parent} to write {target.name} in")
    writer = _writer(session, fmt, gzipped=not target.name.endswith(".warc"), name=target.name)
    if fmt == "parquet":
        _pyarrow()  # fail before touching the database or the disk
    rows = iter_articles(session, f)
    with _atomic_file(target, binary=is_binary(fmt)) as handle:
        return writer(rows, handle, on_progress or (lambda _n: None))


def export_to_stream(session: Session, f: ArticleFilter, handle: IO[Any], fmt: str) -> int:
    """Write the articles matching ``f`` to an open stream (``-o -``: standard output), binary for
    WARC, text otherwise. Parquet needs a file it can seek in."""
    if fmt == "parquet":
        raise ExportError("Parquet cannot be written to standard output; give a file (-o corpus.parquet)")
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    return _writer(session, fmt, gzipped=True)(iter_articles(session, f), handle, lambda _n: None)


def is_binary(fmt: str) -> bool:
    return fmt in ("parquet", "warc")


def _writer(session: Session, fmt: str, *, gzipped: bool, name: str = ""):
    if fmt == "warc":
        # The captures behind the articles, copied record by record from the archive: each a gzip
        # member of its own, or plain records.
        return functools.partial(archive.write_captures_of, session, gzipped=gzipped, name=name)
    return {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}[fmt]


def _writable_target(path: Path) -> Path:
    """The file an export may replace: a new path or a regular file (through a symlink too).

    The export is renamed over its target, so a device, FIFO or directory there would be
    replaced by a regular file (as root, /dev/full or /dev/null): those are refused.
    """
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None
    if stat.S_ISLNK(mode):
        try:
            resolved = path.resolve(strict=True)
        except (FileNotFoundError, RuntimeError):
            raise ExportError(f"{path} is a symbolic link to nothing; give a file path") from None
        if not resolved.is_file():
            raise ExportError(f"{path} links to {resolved}, which is not a regular file")
        return resolved
    if stat.S_ISDIR(mode):
        raise ExportError(f"{path} is a directory")
    if not stat.S_ISREG(mode):
        raise ExportError(f"{path} is not a regular file (a device, FIFO or socket); give a file path")
    return path


@contextlib.contextmanager
def _atomic_file(target: Path, *, binary: bool) -> Iterator[IO[Any]]:
    descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        mode = "wb" if binary else "w"
        options: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(descriptor, mode, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o644)  # mkstemp makes 0600; an export is an ordinary file
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def _write_jsonl(rows: Iterator[ArticleRow], handle: IO[str], on_progress: Callable[[int], None]) -> int:
    count = 0
    for row in rows:
        handle.write(json.dumps(row.as_dict(), ensure_ascii=False))
        handle.write("\n")
        count += 1
        if count % PARQUET_BATCH == 0:
            on_progress(count)
    on_progress(count)
    return count


def _write_csv(rows: Iterator[ArticleRow], handle: IO[str], on_progress: Callable[[int], None]) -> int:
    writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        data = row.as_dict()
        for key in _LIST_COLUMNS:  # lists as JSON arrays: unambiguous and easy to read back
            data[key] = json.dumps(data[key], ensure_ascii=False)
        writer.writerow(data)
        count += 1
        if count % PARQUET_BATCH == 0:
            on_progress(count)
    on_progress(count)
    return count


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ExportError("Parquet export needs pyarrow: pip install 'newsdesk[export]'") from None
    return pyarrow, pyarrow.parquet


def parquet_schema() -> Any:
    """The Arrow schema of a Parquet export (timestamps in UTC, microseconds)."""
    pa, _ = _pyarrow()
    timestamp = pa.timestamp("us", tz="UTC")
    types = {
        "id": pa.int64(),
        "word_count": pa.int64(),
        "cluster_id": pa.int64(),
        "version": pa.int64(),
        "authors": pa.list_(pa.string()),
        "tags": pa.list_(pa.string()),
        **{name: timestamp for name in _TIME_COLUMNS},
    }
    return pa.schema([pa.field(name, types.get(name, pa.string())) for name in EXPORT_COLUMNS])


def _write_parquet(rows: Iterator[ArticleRow], handle: IO[bytes], on_progress: Callable[[int], None]) -> int:
    pa, pq = _pyarrow()
    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(handle, schema, compression="zstd") as writer:
        batch: dict[str, list[Any]] = {name: [] for name in EXPORT_COLUMNS}
        for row in rows:
            for name in EXPORT_COLUMNS:
                batch[name].append(getattr(row, name))
            count += 1
            if count % PARQUET_BATCH == 0:
                writer.write_table(pa.table(batch, schema=schema))
                batch = {name: [] for name in EXPORT_COLUMNS}
                on_progress(count)
        if count % PARQUET_BATCH or count == 0:
            writer.write_table(pa.table(batch, schema=schema))
    on_progress(count)
    return count
