"""The WARC archive: every fetch kept as served, where each one lies, and reading it back.

:class:`WarcFiles` writes WARC 1.1 ``request`` + ``response`` records (or a ``revisit`` record when
the payload is the one the URL's previous capture had), gzip per record, into files it rotates
by size and age. A pair of records is built in memory and written with one ``write``; records are
fsynced before their :class:`~storage.models.Capture` rows commit, so no row points at a partial
record. A file being written has a ``.open`` marker beside it, held with an exclusive ``flock``:
a writer killed mid-record leaves the marker, and the next writer cuts the file back to its last
complete record (:func:`repair_unfinished`) and starts a file of its own.

Plain values only: the crawl hands :class:`Fetched` records over (see
``crawler/components/archive.py``), the import reads files with :func:`iter_records`.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import io
import logging
import os
import socket
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import BUFF_SIZE
from warcio.warcwriter import WARCWriter

from storage.db import dialect_insert
from storage.frontier import owner_is_alive
from storage.models import ArticleUrl, Capture, WarcImportFile

__all__ = [
    "ArchiveFull",
    "CaptureRow",
    "CorruptMember",
    "Fetched",
    "RawPage",
    "WarcFiles",
    "UnreadableCapture",
    "bytes_missing",
    "captures_of_article",
    "clipped",
    "latest_served_capture",
    "default_archive_dir",
    "fail_import_file",
    "iter_records",
    "lease_import_file",
    "leased_files",
    "link_articles",
    "next_record_start",
    "payload_digest",
    "read_capture",
    "record_captures",
    "register_import_files",
    "release_import_file",
    "reopen_import_files",
    "repair_unfinished",
]

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
OPEN_MARKER = ".open"
#: Headers that described the transfer, not the payload: the body kept is already de-chunked.
_TRANSFER_HEADERS = frozenset({"transfer-encoding"})


class ArchiveFull(OSError):
    """The archive could not be written (disk full, quota, I/O error): archiving stops."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """One HTTP exchange as the crawl saw it: the request sent and the response as served."""

    url: str
    method: str
    request_headers: tuple[tuple[str, str], ...]
    status: int
    response_headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    #: The WARC-Record-ID the response (or revisit) record gets, chosen by whoever hands it over.
    record_id: str


@dataclass(frozen=True, slots=True)
class CaptureRow:
    """Where a written record lies; becomes a ``captures`` row."""

    url: str
    fetched_at: datetime
    status: int | None
    record_type: str
    record_id: str
    refers_to: str | None
    file: str
    offset: int
    length: int
    payload_digest: str
    article_id: int | None = None


@dataclass(frozen=True, slots=True)
class Previous:
    """The URL's last capture, for the revisit decision."""

    digest: str
    #: The response record holding that payload (a revisit's own original).
    original_id: str
    original_date: datetime


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def payload_digest(body: bytes) -> str:
    """WARC-Payload-Digest of ``body``: SHA-1 in base32, as Common Crawl and warcio write it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def default_archive_dir(database_url: str) -> Path:
    """``archive/`` beside a SQLite file; ``./archive`` for a server database or ``:memory:``."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).absolute().parent / "archive"
    return Path("archive").absolute()


def _warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class WarcFiles:
    """Writes fetches into rotating ``.warc.gz`` files in ``directory`` (see the module docstring).

    Not thread-safe: one thread writes. Previous digests come from ``previous`` (the URL's last
    capture in the database) and from what this writer wrote.
    """

    def __init__(self, directory: Path, *, max_bytes: int, max_seconds: float, prefix: str = "newsdesk"):
        self.directory = Path(directory).absolute()
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.prefix = prefix
        self.sequence = 0
        self.path: Path | None = None
        self.marker: BinaryIO | None = None
        self.fd: int | None = None
        self.size = 0
        self.opened_at: datetime | None = None
        self.written: dict[str, Previous] = {}
        self.directory.mkdir(parents=True, exist_ok=True)
        repair_unfinished(self.directory)

    # -- files -----------------------------------------------------------------------------------

    def _open(self, now: datetime) -> None:
        self.sequence += 1
        # Unique across hosts, processes and crawls in one process (the demo runs several at once).
        unique = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}-{self.sequence:05d}"
        name = f"{self.prefix}-{now:%Y%m%d%H%M%S}-{unique}.warc.gz"
        path = self.directory / name
        marker = open(f"{path}{OPEN_MARKER}", "wb")  # noqa: SIM115 - held (and locked) while the file is written
        fcntl.flock(marker, fcntl.LOCK_EX)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        self.path, self.marker, self.size, self.opened_at = path, marker, 0, now
        writer = WARCWriter(None, warc_version=WARC_VERSION)  # makes records; _member writes them
        info = {"software": "newsdesk", "format": "WARC File Format 1.1", "hostname": socket.gethostname()}
        self._append(_member(writer.create_warcinfo_record(name, info)))
        self._sync()

    def _due_for_rotation(self, now: datetime) -> bool:
        return self.path is None or self.size >= self.max_bytes or (
            self.opened_at is not None and (now - self.opened_at).total_seconds() >= self.max_seconds
        )

    def close(self) -> None:
        """Finish the current file: synced, and its ``.open`` marker gone."""
        if self.fd is None:
            return
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = None
            os.unlink(f"{self.path}{OPEN_MARKER}")
            self.marker.close()
            self.marker = None
            self.path = None

    def _append(self, data: bytes) -> None:
        """Append ``data`` whole, or cut the file back to where it was and raise :class:`ArchiveFull`."""
        start = self.size
        try:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
        except OSError as exc:
            self._cut_back(start)
            raise ArchiveFull(exc.errno, f"cannot write the archive {self.path}: {exc.strerror}") from exc
        self.size += len(data)

    def _cut_back(self, size: int) -> None:
        try:
            os.ftruncate(self.fd, size)
        except OSError:
            logger.exception("could not cut %s back to its last complete record", self.path)

    def _sync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as exc:
            raise ArchiveFull(exc.errno, f"cannot sync the archive {self.path}: {exc.strerror}") from exc

    # -- records ---------------------------------------------------------------------------------

    def write(self, fetches: Sequence[Fetched], previous: dict[str, Previous]) -> list[CaptureRow]:
        """Write ``fetches``, sync, and return where each lies (rows to commit after this returns).

        ``previous``: the last capture of some of these URLs, from the database.
        """
        rows = []
        for fetch in fetches:
            now = datetime.now(UTC)
            if self._due_for_rotation(now):
                self.close()
                self._open(now)
            rows.append(self._write_one(fetch, self.written.get(fetch.url) or previous.get(fetch.url)))
        if rows:
            self._sync()
        return rows

    def _write_one(self, fetch: Fetched, previous: Previous | None) -> CaptureRow:
        digest = payload_digest(fetch.body)
        writer = WARCWriter(None, warc_version=WARC_VERSION)  # makes records; _member writes them
        date = _warc_date(fetch.fetched_at)
        headers = [(name, value) for name, value in fetch.response_headers if name.lower() not in _TRANSFER_HEADERS]
        http = StatusAndHeaders(f"{fetch.status} {_reason_phrase(fetch.status)}", headers, protocol="HTTP/1.1")
        warc_headers = {"WARC-Record-ID": fetch.record_id, "WARC-Date": date, "WARC-Payload-Digest": digest}
        if previous is not None and previous.digest == digest:
            record = writer.create_revisit_record(
                fetch.url, digest, fetch.url, _warc_date(previous.original_date), http_headers=http,
                warc_headers_dict={**warc_headers, "WARC-Refers-To": previous.original_id},
            )  # fmt: skip
            record_type, refers_to = "revisit", previous.original_id
        else:
            record = writer.create_warc_record(
                fetch.url, "response", payload=io.BytesIO(fetch.body), length=len(fetch.body),
                http_headers=http, warc_headers_dict=warc_headers,
            )  # fmt: skip
            record_type, refers_to = "response", None
        response = _member(record)
        path_and_query = _path_and_query(fetch.url)
        request = StatusAndHeaders(
            f"{fetch.method} {path_and_query} HTTP/1.1", list(fetch.request_headers), is_http_request=True
        )
        request_record = writer.create_warc_record(
            fetch.url, "request", http_headers=request,
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": fetch.record_id},
        )  # fmt: skip
        offset, length = self.size, len(response)
        self._append(response + _member(request_record))
        if record_type == "response":
            self.written[fetch.url] = Previous(digest, fetch.record_id, fetch.fetched_at)
        return CaptureRow(
            url=fetch.url, fetched_at=fetch.fetched_at, status=fetch.status, record_type=record_type,
            record_id=fetch.record_id, refers_to=refers_to, file=str(self.path), offset=offset, length=length,
            payload_digest=digest,
        )  # fmt: skip


#: zlib level of each record's gzip member. warcio's own gzip writes level 9; on the real
#: evaluation pages level 6 compresses a third faster (6.2 against 9.7 ms a page) into 0.6 % more
#: bytes, and the archive shares the crawl's cores with its readers.
GZIP_LEVEL = 6


def _member(record: ArcWarcRecord) -> bytes:
    """``record`` as its own gzip member: a WARC file is read, cut back and copied record by record."""
    buffer = io.BytesIO()
    WARCWriter(buffer, gzip=False, warc_version=WARC_VERSION).write_record(record)
    return _gzip_member(buffer.getvalue())


def _gzip_member(data: bytes) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(data) + compressor.flush()


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def repair_unfinished(directory: Path) -> list[Path]:
    """Cut every file a killed writer left (``.open`` marker, no lock held) back to its last
    complete record, and drop the marker. Returns the files repaired."""
    repaired = []
    for marker_path in sorted(Path(directory).glob(f"*.warc.gz{OPEN_MARKER}")):
        with open(marker_path, "rb") as marker:
            try:
                fcntl.flock(marker, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    continue  # a live writer's file
                raise
            path = Path(str(marker_path).removesuffix(OPEN_MARKER))
            if path.exists():
                end = complete_length(path)
                if end < path.stat().st_size:
                    logger.warning(
                        "archive %s ends in a partial record (a writer was killed): cut from %d to %d bytes",
                        path, path.stat().st_size, end,
                    )  # fmt: skip
                    os.truncate(path, end)
            os.unlink(marker_path)
            repaired.append(path)
    return repaired


def complete_length(path: Path) -> int:
    """Bytes of ``path`` up to the end of its last complete record."""
    end = 0
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        try:
            for record in records:
                record.content_stream().read()
                records.read_to_end(record)
                end = records.get_record_offset() + records.get_record_length()
        except Exception:  # noqa: BLE001 - a partial record is what is being looked for
            pass
    return end


# -- capture rows ------------------------------------------------------------------------------------


def previous_captures(session: Session, urls: Iterable[str]) -> dict[str, Previous]:
    """The last capture of each URL that has one, for the revisit decision."""
    found: dict[str, Previous] = {}
    urls = list(dict.fromkeys(urls))
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        latest = (
            sa.select(Capture.url, sa.func.max(Capture.id).label("id"))
            .where(Capture.url.in_(chunk))
            .group_by(Capture.url)
            .subquery()
        )
        rows = session.execute(sa.select(Capture).join(latest, Capture.id == latest.c.id)).scalars()
        for row in rows:
            if row.record_type == "response":
                found[row.url] = Previous(row.payload_digest, row.record_id, row.fetched_at)
            elif row.refers_to is not None:
                original = session.scalar(sa.select(Capture).where(Capture.record_id == row.refers_to))
                if original is not None:
                    found[row.url] = Previous(row.payload_digest, original.record_id, original.fetched_at)
    return found


def record_captures(session: Session, rows: Sequence[CaptureRow]) -> None:
    """Insert rows for records already on disk (a record listed already is left as it is)."""
    if rows:
        insert = dialect_insert(session, Capture).on_conflict_do_nothing(index_elements=["record_id"])
        session.execute(insert, [_row_dict(row) for row in rows])


def _row_dict(row: CaptureRow) -> dict:
    return {field: getattr(row, field) for field in CaptureRow.__slots__}


def link_articles(session: Session, links: Iterable[tuple[str, int]]) -> None:
    """Set the article stored from each capture: ``(record_id, article_id)`` pairs."""
    pairs = [{"rid": record_id, "aid": article_id} for record_id, article_id in links]
    if pairs:
        # The Core table: an ORM bulk update would want primary keys.
        table = Capture.__table__
        update = table.update().where(table.c.record_id == sa.bindparam("rid")).values(article_id=sa.bindparam("aid"))
        session.execute(update, pairs)


def captures_of_article(session: Session, article_id: int) -> list[Capture]:
    """The article's captures, oldest first; a capture of a URL it is known by counts too."""
    urls = sa.select(ArticleUrl.url).where(ArticleUrl.article_id == article_id)
    query = sa.select(Capture).where(sa.or_(Capture.article_id == article_id, Capture.url.in_(urls)))
    return list(session.scalars(query.order_by(Capture.fetched_at, Capture.id)))


def original_of(session: Session, capture: Capture) -> Capture:
    """The response record a revisit stands for (the capture itself for a response)."""
    if capture.record_type == "revisit" and capture.refers_to:
        original = session.scalar(sa.select(Capture).where(Capture.record_id == capture.refers_to))
        if original is not None:
            return original
    return capture


def latest_served_capture(session: Session, article_id: int, url: str | None = None) -> Capture | None:
    """The response record behind the article's latest capture, served ones (status < 300) first.

    With ``url`` (the URL its stored text was read from), that URL's captures are preferred over
    those of its other renditions and aliases, which extraction reads differently.
    """
    captures = captures_of_article(session, article_id)
    if url is not None:
        captures = [capture for capture in captures if capture.url == url] or captures
    served = [capture for capture in captures if capture.status is not None and capture.status < 300]
    chosen = served or captures
    return original_of(session, chosen[-1]) if chosen else None


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawPage:
    """A response read back from the archive: status line, headers and the decompressed body."""

    url: str
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes


class UnreadableCapture(Exception):
    """A capture that cannot be read back (its file gone, its record cut or corrupt), in one line."""


def read_capture(path: str, offset: int) -> RawPage:
    """The response record at ``offset`` of ``path``, its body decoded (gzip, deflate, brotli).

    Raises :class:`UnreadableCapture` whatever went wrong: warcio's own refusals quote kilobytes of
    the bytes it could not read."""
    try:
        with open(path, "rb") as stream:
            stream.seek(offset)
            records = iter_records(stream)
            record = next(records, None)
            if record is None:
                raise UnreadableCapture("no record there (the file is shorter)")
            http = record.http_headers
            body = record.content_stream().read()
            records.read_to_end(record)
            if missing := bytes_missing(record):
                raise UnreadableCapture(f"the record ends {missing:,} bytes short of its length")
    except UnreadableCapture:
        raise
    except Exception as exc:  # noqa: BLE001 - a missing file, a corrupt member, a bad header, a bad encoding
        raise UnreadableCapture(f"{type(exc).__name__}: {clipped(str(exc))}") from exc
    return RawPage(
        url=record.rec_headers.get_header("WARC-Target-URI"),
        status_line=f"{http.protocol} {http.statusline}" if http else "",
        headers=list(http.headers) if http else [],
        body=body,
    )


def clipped(message: str, limit: int = 160) -> str:
    """``message`` cut to ``limit`` characters: warcio's refusals quote a file's whole first line,
    kilobytes of bytes in a compressed file of another kind."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def copy_record(path: str, offset: int, length: int, out: BinaryIO, *, gzipped: bool) -> None:
    """Copy one record (export), as a gzip member of its own or plain, as the output is: our own
    archive's records are gzip members, those imported from a plain .warc file are not, and one
    WARC file must not mix the two."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        record = stream.read(length)
    is_member = record.startswith(b"\x1f\x8b")
    if gzipped and not is_member:
        record = _gzip_member(record)
    elif not gzipped and is_member:
        record = zlib.decompress(record, wbits=zlib.MAX_WBITS + 16)
    out.write(record)


# -- import leases -----------------------------------------------------------------------------------

#: ``failed``: a file a command could not read (not downloaded, not a WARC file). Its workers do
#: not lease it again; the next command puts it back to pending and tries again.
PENDING, LEASED, DONE, FAILED = "pending", "leased", "done", "failed"


def register_import_files(session: Session, paths: Iterable[str]) -> None:
    """Add files to the import list (files already on it keep their state). Workers started
    together register the same list at once: a path another has just added is left to it."""
    rows = [{"path": path, "state": PENDING} for path in dict.fromkeys(paths)]
    if rows:
        session.execute(dialect_insert(session, WarcImportFile).on_conflict_do_nothing(index_elements=["path"]), rows)


def lease_import_file(
    session: Session, paths: Sequence[str], owner: str, lease: timedelta, is_alive: Callable[[str], bool] = owner_is_alive
) -> str | None:
    """Take one file of ``paths`` that is pending, or whose lease expired or whose holder is a
    process of this machine that is gone (killed: run again, and the file is taken over at once,
    not when its lease runs out); None when none is left.

    A compare-and-set update: of two workers asking at once, one gets the file.
    """
    now = datetime.now(UTC)
    rows = session.execute(
        sa.select(WarcImportFile.path, WarcImportFile.state, WarcImportFile.lease_owner, WarcImportFile.lease_expires_at)
        .where(WarcImportFile.path.in_(paths), WarcImportFile.state.in_((PENDING, LEASED)))
        .order_by(WarcImportFile.path)
    ).all()
    for path, state, holder, expires in rows:
        if state == PENDING:
            takeable = WarcImportFile.state == PENDING
        elif expires is None or expires < now:
            takeable = sa.and_(WarcImportFile.state == LEASED, WarcImportFile.lease_expires_at < now)
        elif holder is not None and not is_alive(holder):
            takeable = sa.and_(WarcImportFile.state == LEASED, WarcImportFile.lease_owner == holder)
        else:
            continue
        taken = session.execute(
            sa.update(WarcImportFile)
            .where(WarcImportFile.path == path, takeable)
            .values(state=LEASED, lease_owner=owner, lease_expires_at=now + lease)
        )
        if taken.rowcount == 1:
            return path
    return None


def renew_import_lease(session: Session, path: str, owner: str, lease: timedelta) -> bool:
    """Extend the lease; False when another worker took the file over."""
    renewed = session.execute(
        sa.update(WarcImportFile)
        .where(WarcImportFile.path == path, WarcImportFile.lease_owner == owner, WarcImportFile.state == LEASED)
        .values(lease_expires_at=datetime.now(UTC) + lease)
    )
    return renewed.rowcount == 1


def leased_files(session: Session, paths: Sequence[str]) -> list[tuple[str, str | None, datetime | None]]:
    """(path, lease owner, lease expiry) of those of ``paths`` another worker holds (or held, and died)."""
    rows = session.execute(
        sa.select(WarcImportFile.path, WarcImportFile.lease_owner, WarcImportFile.lease_expires_at)
        .where(WarcImportFile.path.in_(paths), WarcImportFile.state == LEASED)
        .order_by(WarcImportFile.path)
    )
    return [(path, owner, expires) for path, owner, expires in rows]


def imported_files(session: Session, paths: Sequence[str]) -> set[str]:
    """Those of ``paths`` an import has finished (leased again by nobody: each file is read once)."""
    return set(session.scalars(sa.select(WarcImportFile.path).where(WarcImportFile.path.in_(paths), WarcImportFile.state == DONE)))


def finish_import_file(session: Session, path: str, owner: str, counts: dict[str, int]) -> None:
    session.execute(
        sa.update(WarcImportFile)
        .where(WarcImportFile.path == path, WarcImportFile.lease_owner == owner)
        .values(state=DONE, finished_at=datetime.now(UTC), counts=counts, lease_expires_at=None)
    )


def fail_import_file(session: Session, path: str, owner: str, counts: dict[str, int]) -> None:
    session.execute(
        sa.update(WarcImportFile)
        .where(WarcImportFile.path == path, WarcImportFile.lease_owner == owner, WarcImportFile.state == LEASED)
        .values(state=FAILED, finished_at=datetime.now(UTC), counts=counts, lease_expires_at=None)
    )


def reopen_import_files(session: Session, paths: Sequence[str], *, imported_too: bool = False) -> int:
    """Put the failed files of ``paths`` back to pending, for a new command to try, and with
    ``imported_too`` the done ones as well (``import-warc --again``); how many."""
    states = (FAILED, DONE) if imported_too else (FAILED,)
    result = session.execute(
        sa.update(WarcImportFile).where(WarcImportFile.path.in_(paths), WarcImportFile.state.in_(states)).values(state=PENDING)
    )
    return result.rowcount


def release_import_file(session: Session, path: str, owner: str) -> None:
    """Give a leased file back, pending: the worker was stopped; a later run or another worker may
    take it at once."""
    session.execute(
        sa.update(WarcImportFile)
        .where(WarcImportFile.path == path, WarcImportFile.lease_owner == owner, WarcImportFile.state == LEASED)
        .values(state=PENDING, lease_owner=None, lease_expires_at=None)
    )


class CorruptMember(Exception):
    """A gzip member of a WARC file whose data does not decompress."""


class _StrictMemberReader(DecompressingBufferedReader):
    """warcio prints a corrupt gzip member's zlib error and reads on to the file's end, a block and
    a line of stderr at a time, so every record after it was lost: raise instead, and the reader
    goes on from the next member (:func:`next_record_start`)."""

    def _decompress(self, data):
        if self.decompressor and data and self.num_block_read:
            try:
                return self.decompressor.decompress(data)
            except zlib.error as exc:
                raise CorruptMember(f"a corrupt gzip member ({exc})") from None
        return super()._decompress(data)


class _Records(ArchiveIterator):
    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self.reader = _StrictMemberReader(self.fh, block_size=BUFF_SIZE)  # nothing is read yet


def iter_records(stream: BinaryIO) -> Iterator:
    """warcio records of ``stream`` (gzip or not) from where it stands; ``.offset`` is the current
    record's. A corrupt member raises :class:`CorruptMember` (uses warcio's reader internals,
    hence the bound on warcio in pyproject.toml)."""
    return _Records(stream)


_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = b"\nWARC/1."


def next_record_start(stream: BinaryIO, after: int) -> int | None:
    """Where a record may begin past ``after`` (the start of a bad one): the next gzip member of a
    gzip file, the next ``WARC/1.x`` line of a plain one; None at the end. A false start (the magic
    bytes inside compressed data) fails on its first record, and the search goes on past it."""
    stream.seek(0)
    gzipped = stream.read(2) == _GZIP_MAGIC[:2]
    marker, skip = (_GZIP_MAGIC, 0) if gzipped else (_WARC_LINE, 1)
    position = after + 1
    stream.seek(position)
    carry = b""
    while chunk := stream.read(1 << 20):
        window = carry + chunk
        found = window.find(marker)
        if found >= 0:
            return position - len(carry) + found + skip
        carry = window[-(len(marker) - 1) :]
        position += len(chunk)
    return None


def bytes_missing(record) -> int:
    """Bytes of ``record``'s block that its file did not hold, once the record was read to its
    end: warcio reads a gzip member cut short as if it ended there (uses its LimitReader's count,
    hence the bound on warcio in pyproject.toml)."""
    return getattr(record.raw_stream, "limit", 0)


def write_captures_of(
    session: Session, rows: Iterable, out: BinaryIO, on_progress, *, gzipped: bool = True, name: str = ""
) -> int:
    """Copy the response records behind ``rows`` (articles) into ``out``, each record once.

    A ``warcinfo`` record named ``name`` comes first, as in the crawl's own files: it says where
    the file came from, and an export that selected nothing is still a WARC file that readers
    (and ``import-warc``) accept. The archived ``request`` record that follows a response goes
    with it. Returns the articles that had a capture; an article with none (archive off when it
    was fetched) is left out.
    """
    writer = WARCWriter(out, gzip=gzipped, warc_version=WARC_VERSION)
    info = {"software": "newsdesk", "format": "WARC File Format 1.1", "description": "newsdesk export: captures of articles"}
    writer.write_record(writer.create_warcinfo_record(name, info))
    article_ids = [row.id for row in rows]
    copied: set[str] = set()
    exported = 0
    for count, article_id in enumerate(article_ids, 1):
        captures = [original_of(session, capture) for capture in captures_of_article(session, article_id)]
        if captures:
            exported += 1
        for capture in captures:
            if capture.record_id not in copied:
                copied.add(capture.record_id)
                copy_record(capture.file, capture.offset, capture.length, out, gzipped=gzipped)
        on_progress(count)
    return exported
