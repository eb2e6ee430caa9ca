"""The WARC archive from the command line: ``show --raw`` and ``import-warc``.

Thin over ``storage.archive`` (capture rows, WARC reading) and ``crawler.warc_import``.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.live import Live
from rich.text import Text
from sqlalchemy.orm import sessionmaker

import crawler.settings as project_settings
from crawler.cli.errors import handle_user_errors
from crawler.cli.options import WhenType, database_option
from crawler.cli.output import console
from crawler.settings_check import check_setting
from storage import archive as archive_store
from storage.db import open_database
from storage.processes import sigterm_as_ctrl_c

__all__ = ["import_warc", "print_raw_page"]


def print_raw_page(sessions: sessionmaker, article_id: int, *, with_headers: bool) -> None:
    """The article's latest capture as served: its body (decompressed), headers first if asked."""
    with sessions() as session:
        capture = archive_store.latest_served_capture(session, article_id)
        if capture is None:
            raise click.ClickException(
                f"article {article_id} has no archived capture (archiving was off, or it predates the archive)"
            )
        location = (capture.file, capture.offset)
    try:
        page = archive_store.read_capture(*location)
    except archive_store.UnreadableCapture as exc:
        raise click.ClickException(f"cannot read the capture at {location[0]} offset {location[1]}: {exc}") from None
    out = sys.stdout.buffer
    if with_headers:
        lines = [page.status_line, *(f"{name}: {value}" for name, value in page.headers), "", ""]
        out.write("\r\n".join(lines).encode("latin-1", "replace"))
    out.write(page.body)
    out.flush()


@click.command("import-warc")
@database_option
@click.argument("paths", nargs=-1, required=True)
@click.option("--host", help="Keep only records of hosts matching this pattern (e.g. '*.example.com'; with a port, "
              "'127.0.0.1:8080', the port must match too).")
@click.option("--since", type=WhenType(), help="Keep only records captured at or after this time.")
@click.option("--until", type=WhenType(), help="Keep only records captured before this time.")
@click.option("--lang", "language", help="Keep only articles in this language (ISO 639-1, e.g. en).")
@click.option("--source", help="Source name of the articles (default: each record's host).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Worker processes, each importing one file at a time.")  # fmt: skip
@click.option("--download-dir", type=click.Path(file_okay=False),
              help="Where WARC files given by URL are downloaded and kept (captures point into them). "
                   "Default: downloads/ in the archive directory (NEWSDESK_ARCHIVE_DIR).")  # fmt: skip
@click.option("--allow-private", is_flag=True,
              help="Download from loopback or private addresses (refused by default, as the crawl refuses them).")
@click.option("--again", is_flag=True,
              help="Read again files an earlier run imported (a file replaced at its path, other filters): "
                   "what was stored is found unchanged, never stored twice.")  # fmt: skip
@click.option("--readers", type=click.IntRange(1),
              help="Page-reading processes per worker (1: the worker reads its pages itself). "
                   "Default: the crawl's NEWSDESK_EXTRACT_WORKERS (0: one a core) shared among the workers.")  # fmt: skip
@click.pass_context
@handle_user_errors
def import_warc(
    ctx: click.Context, paths: tuple[str, ...], host: str | None, since: datetime | None, until: datetime | None,
    language: str | None, source: str | None, workers: int, download_dir: str | None, allow_private: bool,
    again: bool, readers: int | None,
) -> None:  # fmt: skip
    """Import HTML pages from WARC files (gzip or not; CC-NEWS, other archives, newsdesk's own):
    files, globs, directories (their .warc and .warc.gz files) or http(s) URLs.

    A URL is downloaded first, by the worker that leases it, and kept (see --download-dir);
    a file downloaded before is not fetched again, one that failed is tried again next run.
    Pages go through the crawl's reading, extraction, dedup and storage. Files are leased
    from the database, so several processes (--workers, or other machines
    sharing a PostgreSQL store) split one list; run it again after a crash to finish. Each
    worker hands its file's pages to --readers processes, so one file uses every core.
    Publishers' signals of each page (headers, <meta>) are stored as the crawl stores them;
    NEWSDESK_REFUSE_TDM_RESERVED (crawler/settings.py, or the environment) skips reserved pages.
    """
    from crawler.warc_import import DOWNLOAD_FAILED, NOT_A_WARC_FILE, Downloads, ImportFilter, error_count, import_worker

    files = sorted({found for target in paths for found in _warc_files(target)})
    database_url = ctx.find_root().obj
    downloads = Downloads(download_dir or str(_archive_dir(database_url) / "downloads"), allow_private)
    sessions = open_database(database_url)  # migrated to head, as every worker will find it
    with sessions.begin() as session:
        imported_before = [] if again else archive_store.imported_files(session, files)
        archive_store.reopen_import_files(session, files, imported_too=again)  # failed: a command before could not read them
    options = ImportFilter(
        host=host, since=since, until=until, language=language, source=source, refuse_tdm_reserved=_refuse_tdm_reserved()
    )
    # A worker beyond one a file would find nothing to lease.
    busy_workers = min(workers, len(files))
    if readers is None:
        readers = _default_readers(busy_workers)
    started = time.monotonic()
    if busy_workers == 1:
        totals = _import_here(import_worker, (database_url, files, options), readers, downloads, started)
    else:
        context = multiprocessing.get_context("spawn")
        # Not a multiprocessing.Pool: its workers are daemons, and a daemon may not start readers.
        with context.Manager() as manager:
            # SIGTERM sent to this process alone (``kill PID``) is passed on to the workers, which give
            # their files back and stop as on Ctrl-C; without it they went on importing with no one to
            # report to. The manager's process (the progress queue) is spared: the with blocks end it.
            spared = set(multiprocessing.active_children())

            def stop_workers() -> None:
                for child in multiprocessing.active_children():
                    if child not in spared:
                        child.terminate()

            with sigterm_as_ctrl_c(stop_workers), ProcessPoolExecutor(busy_workers, mp_context=context) as pool:
                updates = manager.Queue()
                results = [
                    pool.submit(import_worker, database_url, files, options, _Reporter(updates, index), readers, downloads)
                    for index in range(busy_workers)
                ]
                totals = _follow(results, updates, started)
    elapsed = max(time.monotonic() - started, 1e-9)
    click.echo(_summary(totals, elapsed), err=True)
    if imported_before:
        click.echo(f"{len(imported_before):,} of {len(files):,} files were imported by an earlier run and not read again"
                   " (--again reads them)", err=True)  # fmt: skip
    with sessions() as session:
        _say_what_others_hold(archive_store.leased_files(session, files), len(files))
    sessions.kw["bind"].dispose()
    if not_downloaded := totals.get(f"error/{DOWNLOAD_FAILED}", 0):
        raise click.ClickException(
            f"{not_downloaded:,} WARC files could not be downloaded (logged above, each with why); the next run tries them again"
        )
    if not_warc := totals.get(f"error/{NOT_A_WARC_FILE}", 0):
        raise click.ClickException(f"{not_warc:,} of the files hold no WARC record (named above)")
    errors = error_count(totals)
    if errors:
        raise click.ClickException(f"{errors:,} pages failed (logged above with their URLs); `newsdesk runs` shows the run")


def _say_what_others_hold(held: list, file_count: int) -> None:
    """Files another worker has leased were not read here: in progress elsewhere, or left by a worker
    that was killed, taken over once its lease expires. Without a word, the run would look complete."""
    if not held:
        return
    owners = sorted({owner or "?" for _, owner, _ in held})
    expiry = max((expires for _, _, expires in held if expires is not None), default=None)
    until = f" (its lease runs to {expiry:%Y-%m-%d %H:%M:%S} UTC)" if expiry is not None else ""
    click.echo(
        f"{len(held):,} of {file_count:,} files are leased by another worker ({', '.join(owners)}) and were not read here:"
        f" in progress there, or left by a worker that was killed, which a run after its lease ends takes over{until}",
        err=True,
    )


def _warc_files(target: str) -> list[str]:
    """The files a PATH, GLOB or directory (its .warc and .warc.gz files, at any depth) names,
    as absolute paths; or the URL itself, to download."""
    from crawler.warc_import import is_remote

    try:
        parts = urlsplit(target)
    except ValueError as exc:  # "http://[::1/a": an unclosed IPv6 bracket
        raise click.UsageError(f"not a URL: {target} ({exc})") from None
    if is_remote(target):
        if parts.username is not None or parts.password is not None:
            # The URL is the file's name in the log and in the database: no password goes there.
            raise click.ClickException(
                f"a URL with a user name or password is not downloaded (it would be logged and stored): "
                f"{parts._replace(netloc=parts.netloc.rpartition('@')[2]).geturl()}"
            )
        # A URL no download can ever reach is the command's mistake, not a file to try again next run.
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if not parts.hostname or not port_ok:
            raise click.UsageError(f"not a URL to download from (no host, or a port outside 1-65535): {target}")
        return [target]
    if "://" in target:
        raise click.ClickException(f"only http and https URLs are downloaded, not {target}")
    return [os.path.abspath(found) for found in _local_warc_files(target)]


def _local_warc_files(target: str) -> list[str]:
    if os.path.isdir(target):
        found = [str(path) for path in sorted(Path(target).rglob("*")) if path.name.endswith((".warc", ".warc.gz"))]
        if not found:
            raise click.ClickException(f"no WARC files (*.warc, *.warc.gz) in {target}")
        return found
    if any(char in target for char in "*?["):
        found = [path for path in glob.glob(target, recursive=True) if os.path.isfile(path)]
        if not found:
            raise click.ClickException(f"no file matches {target}")
        return found
    if not target:
        raise click.UsageError("an empty path names no file")
    if os.path.exists(target) and not os.path.isfile(target):
        raise click.ClickException(f"not a file or a directory (a device, a pipe?): {target}")
    if not os.path.isfile(target):
        raise click.ClickException(f"no such file: {target}")
    return [target]


def _archive_dir(database_url: str) -> Path:
    """NEWSDESK_ARCHIVE_DIR of crawler/settings.py (or the environment), else the crawl's default."""
    configured = project_settings.NEWSDESK_ARCHIVE_DIR
    return Path(configured).absolute() if configured else archive_store.default_archive_dir(database_url)


def _default_readers(busy_workers: int) -> int:
    """The crawl's reader count (NEWSDESK_EXTRACT_WORKERS of crawler/settings.py, 0: one a core),
    shared among the workers that will have a file, so N workers x M readers do not crowd the cores."""
    name = "NEWSDESK_EXTRACT_WORKERS"
    total = check_setting(name, getattr(project_settings, name)) or os.cpu_count() or 1
    return max(1, total // max(1, busy_workers))


def _refuse_tdm_reserved() -> bool:
    """NEWSDESK_REFUSE_TDM_RESERVED of crawler/settings.py, overridden by an environment variable of its name."""
    name = "NEWSDESK_REFUSE_TDM_RESERVED"
    return check_setting(name, os.environ.get(name, getattr(project_settings, name)))


class _Reporter:
    """A worker's running counts, sent to the command's process (picklable for the pool)."""

    def __init__(self, queue, index: int):
        self.queue = queue
        self.index = index

    def __call__(self, counts: Counter) -> None:
        self.queue.put((self.index, dict(counts)))


def _import_here(import_worker, arguments: tuple, readers: int, downloads, started: float) -> Counter:
    """One worker, in this process (no process to start and feed), showing progress on a terminal."""
    live = Live(console=console, transient=True) if sys.stderr.isatty() else None
    if live is None:
        return import_worker(*arguments, readers=readers, downloads=downloads)
    with live:
        return import_worker(
            *arguments,
            on_counts=lambda counts: live.update(Text(_summary(counts, time.monotonic() - started))),
            readers=readers,
            downloads=downloads,
        )


def _follow(results, updates, started: float) -> Counter:
    """Show progress (on a terminal) until every worker is done; returns the sum of their counts."""
    latest: dict[int, dict] = {}
    live = Live(console=console, transient=True) if sys.stderr.isatty() else None
    if live is not None:
        live.start()
    try:
        while not all(result.done() for result in results):
            _drain(updates, latest)
            if live is not None:
                live.update(Text(_summary(_sum(latest.values()), time.monotonic() - started)))
            time.sleep(0.2)
    finally:
        if live is not None:
            live.stop()
    totals: Counter = Counter()
    for result in results:
        totals.update(result.result())
    return totals


def _drain(updates, latest: dict) -> None:
    while not updates.empty():
        index, counts = updates.get()
        latest[index] = counts


def _sum(counts) -> Counter:
    total: Counter = Counter()
    for item in counts:
        total.update(item)
    return total


def _summary(counts: Counter, elapsed: float) -> str:
    records = counts.get("records", 0)
    stored, updated = counts.get("stored", 0), counts.get("updated", 0)
    skipped = sorted(((key.removeprefix("skipped/"), n) for key, n in counts.items() if key.startswith("skipped/")),
                     key=lambda pair: -pair[1])  # fmt: skip
    sizes = {"downloaded_bytes": "downloaded", "downloading_bytes": "downloading"}
    others = ", ".join(f"{key} {n:,}" for key, n in sorted(counts.items())
                       if key not in ("records", "stored", "updated", *sizes) and not key.startswith("skipped/"))  # fmt: skip
    line = f"{records:,} records in {elapsed:.1f}s ({records / max(elapsed, 1e-9):,.0f} records/s): stored {stored:,}"
    if updated:
        line += f", updated {updated:,}"  # an edit of a stored story: a new version, not a new story
    for key, said in sizes.items():
        if counts.get(key):
            line += f", {said} {_size(counts[key])}"
    if others:
        line += f", {others}"
    if skipped:
        line += "; skipped: " + ", ".join(f"{reason} {n:,}" for reason, n in skipped)
    return line


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.1f} kB"
