"""``import-warc``: HTML responses of WARC files through the crawl's reading, dedup and storage.

A worker leases one file at a time from the ``warc_import_files`` table (see ``storage.archive``),
so any number of workers, in one process tree or on many machines sharing a PostgreSQL store,
split one list. A killed worker's lease expires and its file goes to the next worker; what it
stored already is found again as ``unchanged`` (articles are keyed by URL and content), so nothing
is stored twice. Each kept record gets a ``captures`` row pointing into the file read, so
``show --raw`` works on imported articles too.

Records that are not an HTML page are counted by reason and skipped; a truncated or corrupt file
ends there, counted, and the worker goes on with the next file. Every HTML page read gets a row in
the run's crawl log, as a crawled page does: ``runs show ID`` says what became of each and why
(``not-an-article: hub (tag): ...``, ``skipped: tdm-reserved``, ``error: extraction-timeout``).

A worker reads its file's records in order and hands each page to a pool of reader processes (the
crawl's :class:`~crawler.workers.ReadingPool`, with its hard timeout per page), a bounded number at
a time, and writes what comes back in record order: one file uses every reader. A page whose
reader overran the timeout or died is counted as an error (``error/extraction-timeout``,
``error/extraction-crashed``), logged with its URL, and the file goes on.

Each article's publishers' signals are stored as the crawl stores them (``article_signals``): its
HTML's (<meta> robots and TDMRep, paywall markup) and its record's response headers (TDMRep,
X-Robots-Tag, Content-Usage), joined by the crawl's own rules. Site-wide files (tdmrep.json,
robots.txt) are not read: a WARC file need not hold them, nor hold them before the site's pages.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from warcio.exceptions import ArchiveLoadFailed

from crawler import settings as crawl_settings
from crawler.components.site_signals import joined_signals
from crawler.discovery.scope import CrawlScope
from crawler.extraction import Article
from crawler.extraction.signals import SIGNAL_HEADERS
from crawler.normalize import article_to_store, canonical_url_or_none, site_key
from crawler.page_fetch import FetchRefused, download_file
from crawler.pages import HTML_CONTENT_TYPES
from crawler.reading import EXTRACTOR_VERSION, REJECTION_OUTCOMES, PageReading, ReadRequest
from crawler.workers import READING_BUG, READING_FAILURES, PendingReading, ReadingPool
from storage import archive as archive_store
from storage import frontier as frontier_store
from storage import runs as run_log
from storage.batches import BatchTarget, FetchResult, write_batch
from storage.db import open_database, run_in_transaction
from storage.processes import sigterm_as_ctrl_c

logger = logging.getLogger(__name__)

__all__ = ["Downloads", "ImportFilter", "import_worker", "is_remote"]

#: Records larger than this are skipped unread (no news page is; a video or a dump may be).
MAX_RECORD_BYTES = 50 * 1024 * 1024
#: Records stored per transaction.
BATCH = 50
#: Pages handed to the readers and not yet written: enough to keep them busy while a batch is
#: written, few enough (with the bytes below) that memory stays bounded whatever the file.
MAX_IN_FLIGHT = 2 * BATCH
MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024
LEASE = timedelta(minutes=5)
#: The file's lease is renewed and the run says it is alive at least this often, also through a
#: long stretch of records that are skipped (a --host filter over a CC-NEWS file keeps few): a
#: lease let lapse hands the file to a second worker, a silent run is taken for a killed one.
KEEP_ALIVE_SECONDS = 60.0


@dataclass(frozen=True)
class ImportFilter:
    host: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    source: str | None = None
    #: NEWSDESK_REFUSE_TDM_RESERVED: a page whose publisher reserves text and data mining is skipped.
    refuse_tdm_reserved: bool = False


@dataclass(frozen=True)
class Downloads:
    """Where the files of ``import-warc URL`` are downloaded to, and kept: the captures of their
    pages point into them, so ``show --raw`` reads them there."""

    directory: str
    #: Download from loopback or private addresses (refused by default, as the crawl refuses them).
    allow_private: bool = False

    def path_of(self, url: str) -> Path:
        """The file a URL is downloaded to: its own name, kept readable, after a hash of the URL."""
        parts = urlsplit(url)
        name = _UNSAFE.sub("_", PurePosixPath(parts.path).name)[-100:] or "download.warc"
        digest = hashlib.sha1(url.encode("utf-8")).hexdigest()[:12]
        return Path(self.directory) / _UNSAFE.sub("_", parts.netloc) / f"{digest}-{name}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_remote(target: str) -> bool:
    """True when ``import-warc`` is to download ``target`` first."""
    return urlsplit(target).scheme in ("http", "https")


def import_worker(
    database_url: str, paths: Sequence[str], options: ImportFilter, on_counts: Callable[[Counter], None] | None = None,
    readers: int = 1, downloads: Downloads | None = None,
) -> Counter:
    """Lease and import files of ``paths`` until none is left; returns the counts of this worker.

    ``readers``: processes that read its pages (1 reads them in this process). A path that is an
    http(s) URL is leased as such and downloaded by the worker that leased it, to ``downloads``
    (default: ``downloads/`` in the archive directory); a file downloaded before is not fetched again.
    """
    if downloads is None:
        downloads = Downloads(str(archive_store.default_archive_dir(database_url) / "downloads"))
    sessions = open_database(database_url)
    owner = frontier_store.worker_name()  # host:pid, so a killed worker's file is taken over at once
    with sessions.begin() as session:
        archive_store.register_import_files(session, paths)
        settled = run_log.settle_abandoned_runs(session)
        run_id = run_log.start_run(session, options.source or "import-warc", worker=owner)
    if settled:
        logger.warning("runs %s had stopped without closing (killed?): marked interrupted", settled)
    total: Counter = Counter()
    pool = ReadingPool.with_project_settings(readers)
    pool.start()
    path = None
    try:
        # SIGTERM (a service manager, ``kill``) stops the worker as Ctrl-C does: it gives its file
        # back and says how the run ended, instead of dying with the file leased and the run "running".
        with sigterm_as_ctrl_c():
            while True:
                path = run_in_transaction(
                    sessions, lambda session: archive_store.lease_import_file(session, paths, owner, LEASE)
                )
                if path is None:
                    break
                target = BatchTarget(database_url, None, run_id, extractor_version=EXTRACTOR_VERSION)
                so_far = total.copy()
                report = (lambda counts, so_far=so_far: on_counts(so_far + counts)) if on_counts is not None else None
                readable, length_checked = path, True
                if is_remote(path):
                    try:
                        readable, length_checked = _download(
                            sessions, target.run_id, path, owner, downloads, total, on_counts
                        )
                    except FetchRefused as exc:
                        said = str(exc) if path in str(exc) else f"could not download {path}: {exc}"
                        logger.error("%s (tried again by the next import-warc)", said)
                        total[f"error/{DOWNLOAD_FAILED}"] += 1
                        with sessions.begin() as session:
                            archive_store.fail_import_file(session, path, owner, {f"error/{DOWNLOAD_FAILED}": 1})
                        continue
                    except _TakenOver:
                        logger.warning("%s: lease taken over by another worker while downloading; leaving it", path)
                        continue
                counts = _import_file(sessions, target, path, owner, options, pool, report, readable=readable)
                if not length_checked and counts.get("skipped/truncated-or-corrupt"):
                    # The server said no length: the file's cut end may be the connection's. Fetch it again.
                    logger.error("%s: the download ends mid-record and the server gave no length to check it by:"
                                 " removed, tried again by the next import-warc", path)  # fmt: skip
                    Path(readable).unlink(missing_ok=True)
                    counts[f"error/{DOWNLOAD_FAILED}"] += 1
                if readable != path and counts.get(f"error/{NOT_A_WARC_FILE}"):
                    # A page, not a WARC file: nothing points into it, and kept among the downloads
                    # it failed every later import of the archive directory.
                    Path(readable).unlink(missing_ok=True)
                with sessions.begin() as session:
                    if counts.get(f"error/{DOWNLOAD_FAILED}") or counts.get(f"error/{NOT_A_WARC_FILE}"):
                        archive_store.fail_import_file(session, path, owner, dict(counts))
                    else:
                        archive_store.finish_import_file(session, path, owner, dict(counts))
                total.update(counts)
    except BaseException as exc:
        # The run says how it ended, and gives its file back: run again, and it is read from the
        # start at once (what was stored is found unchanged), not after its lease expires.
        if path is not None:
            _give_back(sessions, path, owner)
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        _finish(sessions, run_id, status, total, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        pool.close()
    errors = error_count(total)
    _finish(sessions, run_id, "finished-with-errors" if errors else "finished", total,
            f"{errors} pages failed (see the log)" if errors else None)  # fmt: skip
    return total


def error_count(counts: Counter) -> int:
    """Pages lost to newsdesk's own faults: not written (``error``), or its reading code raised.
    A page that hangs or kills its reader is counted too (``error/extraction-timeout``), but as
    in the crawl it is the page's fault, not the run's. A file that could not be downloaded, or
    is not a WARC file, is the run's failure too: none of its pages were read."""
    return counts.get("error", 0) + sum(counts.get(f"error/{kind}", 0) for kind in _RUN_ERRORS)


DOWNLOAD_FAILED = "download-failed"
NOT_A_WARC_FILE = "not-a-warc-file"
#: What makes a run fail besides pages not written: a reading bug, a file not downloaded, a file
#: named that holds no WARC record (none of their pages were read).
_RUN_ERRORS = (READING_BUG, DOWNLOAD_FAILED, NOT_A_WARC_FILE)


def _download(
    sessions, run_id: int, url: str, owner: str, downloads: Downloads, total: Counter, on_counts
) -> tuple[str, bool]:
    """The local copy of the leased ``url``, downloaded unless an earlier run did, and whether its
    length was checked; the lease is renewed and the run says it is alive as the bytes come (a
    large file takes minutes)."""
    destination = downloads.path_of(url)
    if destination.is_file():
        logger.info("%s: already downloaded to %s", url, destination)
        return str(destination), True
    renewed_at = time.monotonic()

    def progress(received: int) -> None:
        nonlocal renewed_at
        if time.monotonic() - renewed_at < KEEP_ALIVE_SECONDS:
            return
        with sessions.begin() as session:
            if not archive_store.renew_import_lease(session, url, owner, LEASE):
                raise _TakenOver(url)
            run_log.beat(session, run_id)
        renewed_at = time.monotonic()
        if on_counts is not None:
            on_counts(total + Counter({"downloading_bytes": received}))

    logger.info("%s: downloading to %s", url, destination)
    downloaded = download_file(url, destination, allow_private=downloads.allow_private, on_progress=progress)
    total["downloaded_bytes"] += downloaded.size
    return str(destination), downloaded.length_checked


def _give_back(sessions, path: str, owner: str) -> None:
    try:
        with sessions.begin() as session:
            archive_store.release_import_file(session, path, owner)
    except Exception:  # noqa: BLE001 - a store that is gone cannot take it; the lease expires instead
        logger.exception("could not give back the lease of %s; it expires in %s", path, LEASE)


def _finish(sessions, run_id: int, status: str, counts: Counter, error: str | None) -> None:
    try:
        with sessions.begin() as session:
            run_log.finish_run(session, run_id, status=status, counts=dict(counts), error=error)
    except Exception:  # noqa: BLE001 - a database that is gone cannot record it; the exit code still says so
        if status == "finished":
            raise
        logger.exception("could not record run %s as %s", run_id, status)


def _import_file(
    sessions, target: BatchTarget, path: str, owner: str, options: ImportFilter, pool: ReadingPool, on_counts,
    readable: str,
) -> Counter:
    """Import the file leased as ``path`` (a file, or a URL) from ``readable`` (its local copy)."""
    counts: Counter = Counter()
    #: What became of each page read, in record order, with the capture of those kept.
    pending: list[tuple[FetchResult, archive_store.CaptureRow | None]] = []
    #: Pages handed to the readers, oldest first, and their bytes.
    in_flight: deque[tuple[_Page, PendingReading]] = deque()
    in_flight_bytes = 0
    renewed_at = time.monotonic()

    def renew(session) -> None:
        nonlocal renewed_at
        if not archive_store.renew_import_lease(session, path, owner, LEASE):
            raise _TakenOver(path)
        run_log.beat(session, target.run_id)
        renewed_at = time.monotonic()

    def keep_alive() -> None:
        if time.monotonic() - renewed_at >= KEEP_ALIVE_SECONDS:
            with sessions.begin() as session:
                renew(session)

    def flush() -> None:
        batch = list(pending)
        pending.clear()
        if not batch:
            return
        with sessions.begin() as session:
            renew(session)
            archive_store.record_captures(session, [row for _, row in batch if row is not None])
        for (fetch, _), outcome in zip(batch, write_batch(target, [fetch for fetch, _ in batch]), strict=True):
            if fetch.article is not None:  # the others were counted by reason as they were read
                counts[outcome if isinstance(outcome, str) else "error"] += 1
        if on_counts is not None:
            on_counts(counts)

    def settle_oldest() -> None:
        """The oldest page's reading, kept for the next batch if it is an article that passes."""
        nonlocal in_flight_bytes
        page, reading = in_flight.popleft()
        in_flight_bytes -= len(page.body)
        pending.append(_fetch_of(page, reading.reading(), options, counts))
        if len(pending) >= BATCH:
            flush()

    try:
        stream = open(readable, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        counts["skipped/unreadable-file"] += 1
        logger.error("%s: cannot read: %s", readable, exc)
        return counts
    try:
        with stream:
            records = archive_store.iter_records(stream)
            past_bad_record = False  # looking for the next good record after a bad one
            while True:
                try:
                    record = next(records, None)
                    if record is None:
                        break
                    if record.format != "warc":
                        # warcio takes any first line of five words for an ARC header, so a
                        # compressed file of another kind reads as one ARC record of noise.
                        raise ArchiveLoadFailed("its first record has no WARC/1.x header: an old ARC file, or not an archive")
                    counts["records"] += 1
                    page = _html_page(record, records, readable, options, counts)
                    if page is None:  # skipped unread: a cut in it must end the file all the same
                        records.read_to_end(record)
                        if missing := archive_store.bytes_missing(record):
                            raise CutShort(f"a {record.rec_type} record ends {missing:,} bytes short of its length")
                    past_bad_record = False
                except Exception as exc:  # noqa: BLE001 - a truncated or corrupt record is counted, the file goes on
                    if isinstance(exc, ArchiveLoadFailed) and not counts["records"] and not past_bad_record:
                        # Not one record: the user named something else (a page, a .gz of another kind).
                        counts[f"error/{NOT_A_WARC_FILE}"] += 1
                        logger.error("%s: not a WARC file (%s)", path, archive_store.clipped(str(exc)))
                        break
                    if not past_bad_record:
                        counts["skipped/truncated-or-corrupt"] += 1
                        logger.warning(
                            "%s: skipped a bad record at byte %s: %s: %s",
                            readable, f"{records.offset:,}", type(exc).__name__, archive_store.clipped(str(exc)),
                        )
                    resume = archive_store.next_record_start(stream, records.offset)
                    if resume is None:
                        break
                    stream.seek(resume)
                    records = archive_store.iter_records(stream)
                    past_bad_record = True
                    continue
                keep_alive()
                if page is None:
                    continue
                in_flight.append((page, pool.submit(page.body, page.request)))
                in_flight_bytes += len(page.body)
                while len(in_flight) > MAX_IN_FLIGHT or in_flight_bytes > MAX_IN_FLIGHT_BYTES:
                    settle_oldest()
        if not counts["records"] and not counts[f"error/{NOT_A_WARC_FILE}"]:
            counts[f"error/{NOT_A_WARC_FILE}"] += 1
            logger.error("%s: not a WARC file (it holds no record)", path)
        while in_flight:
            settle_oldest()
        flush()
    except _TakenOver:
        logger.warning("%s: lease taken over by another worker; leaving it", path)
    finally:
        for _, reading in in_flight:
            reading.cancel()
    return counts


class _TakenOver(Exception):
    pass


class CutShort(ValueError):
    """A record whose file ends before the record does (a copy cut short, a crawl killed)."""


@dataclass(frozen=True, slots=True)
class _Page:
    """An HTML response record that passed the filters, taken off its file, to be read."""

    url: str
    body: bytes
    request: ReadRequest
    fetched_at: datetime
    signal_headers: dict[str, tuple[str, ...]]
    capture: archive_store.CaptureRow
    #: The response's validators, kept as a crawl keeps them for its next conditional request.
    etag: str | None = None
    last_modified: str | None = None


def _skip(counts: Counter, reason: str) -> None:
    counts[f"skipped/{reason}"] += 1


def _html_page(record, records, path: str, options: ImportFilter, counts: Counter) -> _Page | None:
    """The record as a page to read if it is an HTML response that passes the filters, else None."""
    if record.rec_type is None:
        raise CutShort("a record without a WARC-Type: its header is cut or corrupt")
    if record.rec_type != "response":
        _skip(counts, f"{record.rec_type}-record")
        return None
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    if not url.lower().startswith(("http://", "https://")) or record.http_headers is None:
        _skip(counts, "not-http")
        return None
    if canonical_url_or_none(url) is None:  # a host with a space or a bad port, "http://[::1/"
        _skip(counts, "not-a-web-address")
        return None
    if record.length and record.length > MAX_RECORD_BYTES:
        _skip(counts, "over-50-MB")
        return None
    if options.host and not _host_matches(url, options.host):
        _skip(counts, "host-filter")
        return None
    fetched_at = _warc_date(record.rec_headers.get_header("WARC-Date"))
    if (options.since and fetched_at < options.since) or (options.until and fetched_at >= options.until):
        _skip(counts, "date-filter")
        return None
    status = record.http_headers.get_statuscode()
    if status != "200":
        _skip(counts, "http-status")
        return None
    content_type, _, params = (record.http_headers.get_header("Content-Type") or "").partition(";")
    content_type = content_type.strip().lower()
    if content_type and content_type not in HTML_CONTENT_TYPES:
        _skip(counts, "not-html-content-type")
        return None
    body = record.content_stream().read()
    records.read_to_end(record)
    if missing := archive_store.bytes_missing(record):
        # A gzip member cut short reads without error: what came is a page cut short, not a page.
        raise CutShort(f"{url}: the record ends {missing:,} bytes short of its Content-Length")
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or b"\x00" in body[:4096]:
        _skip(counts, "not-html-body")
        return None
    record_id = record.rec_headers.get_header("WARC-Record-ID") or archive_store.new_record_id()
    digest = record.rec_headers.get_header("WARC-Payload-Digest") or archive_store.payload_digest(body)
    if 0 < crawl_settings.NEWSDESK_MAX_HTML_BYTES < len(body):
        # Read only this much, as the crawl does: a 20 MB page would be a tree of several hundred MB.
        counts["html_cut"] += 1
        body = body[: crawl_settings.NEWSDESK_MAX_HTML_BYTES]
    capture = archive_store.CaptureRow(
        url=url, fetched_at=fetched_at, status=200, record_type="response", record_id=record_id, refers_to=None,
        file=os.path.abspath(path), offset=records.get_record_offset(), length=records.get_record_length(),
        payload_digest=digest,
    )  # fmt: skip
    request = ReadRequest(
        url=url,
        scope=CrawlScope(()),  # links are not followed
        http_charset=_charset(params),
        max_text_chars=crawl_settings.NEWSDESK_MAX_ARTICLE_CHARS,
        max_elements=crawl_settings.NEWSDESK_MAX_PAGE_ELEMENTS,
    )
    headers = record.http_headers
    return _Page(url, body, request, fetched_at, _signal_headers(headers), capture,
                 headers.get_header("ETag"), headers.get_header("Last-Modified"))  # fmt: skip


def _fetch_of(
    page: _Page, reading: PageReading, options: ImportFilter, counts: Counter
) -> tuple[FetchResult, archive_store.CaptureRow | None]:
    """What became of a page read: an article with its capture if it passes the filters, else
    the outcome and reason its crawl-log row gives (counted here by reason)."""
    extracted = reading.extraction
    url = page.url

    def not_kept(outcome: str, reason: str) -> tuple[FetchResult, None]:
        return FetchResult(url, 200, len(page.body), outcome, reason), None

    if reading.text_cut_from:
        counts["text_cut"] += 1
        logger.warning("%s: article text cut at %d of %d characters (NEWSDESK_MAX_ARTICLE_CHARS)", url,
                       crawl_settings.NEWSDESK_MAX_ARTICLE_CHARS, reading.text_cut_from)  # fmt: skip
    if reading.over_element_cap:
        _skip(counts, "over-max-elements")
        logger.warning("%s: %s <%s>", page.capture.file, reading.not_article_reason, url)
        return not_kept("not-an-article", reading.not_article_reason)
    if extracted is None:  # typed not a story: a hub, media or service page
        _skip(counts, "not-an-article")
        return not_kept("not-an-article", reading.not_article_reason or "not a story")
    if not isinstance(extracted, Article):
        reason = extracted.reason
        detail = f"{reason}: {extracted.detail}" if extracted.detail else reason
        if reason in READING_FAILURES:
            counts[f"error/{reason}"] += 1
            logger.warning("%s: %s <%s>", page.capture.file, detail, url)
            return not_kept("error", detail)
        _skip(counts, "not-an-article")
        return not_kept(REJECTION_OUTCOMES.get(reason, "not-an-article"), detail)
    if options.language and (extracted.language or "").split("-")[0] != options.language:
        _skip(counts, "language-filter")
        return not_kept("skipped", f"language {extracted.language or 'unknown'}, not {options.language} (--lang)")
    signals = joined_signals(url, reading.signals, page.signal_headers, {})
    if options.refuse_tdm_reserved and signals.tdm_reserved:
        _skip(counts, "tdm-reserved")
        return not_kept("skipped", "tdm-reserved: the publisher reserves text and data mining (NEWSDESK_REFUSE_TDM_RESERVED)")
    article = article_to_store(
        extracted, source=options.source or site_key(url), url=url, fetched_at=page.fetched_at,
        fingerprint=reading.fingerprint, etag=page.etag, last_modified=page.last_modified,
    )  # fmt: skip
    fetch = FetchResult(
        url, 200, len(page.body), "stored", None, article=article, capture_id=page.capture.record_id, signals=signals
    )
    return fetch, page.capture


def _signal_headers(http_headers) -> dict[str, tuple[str, ...]]:
    """The record's headers that carry publishers' signals, as ``Page.signal_header_map`` has them."""
    found: dict[str, tuple[str, ...]] = {}
    for name, value in http_headers.headers:
        if name.lower() in SIGNAL_HEADERS:
            found[name.lower()] = (*found.get(name.lower(), ()), value.strip())
    return found


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip().strip('"').lower()
    return None


def _host_matches(url: str, pattern: str) -> bool:
    """``--host`` against the record's host, or its host and port when the pattern names a port
    (as the sources of a site on a port are named: ``127.0.0.1:8080``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in pattern:
        try:
            host = f"{host}:{parts.port}" if parts.port else host
        except ValueError:  # a port that is no number: no port to match
            pass
    return fnmatch.fnmatch(host, pattern.lower())


def _warc_date(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
