"""A crawl's results written in batches: articles, the crawl log and the frontier, one transaction each.

Each fetch is stored, logged and marked done in the frontier in the same transaction, so a crash
never leaves a URL done without its result. A batch that fails is written fetch by fetch, and a
fetch that still fails goes to the dead-letter table at once when retrying cannot help (a value the
database refuses), or after riding out an outage when it can; either way, in the same transaction,
its frontier row is marked failed (a later run tries it again) and the crawl log says why.

:class:`BatchWriter` runs the writes in a process of its own, in the order the batches were handed
over: the crawl process only schedules and downloads, and a slow database (PostgreSQL round trips,
an fsync, a lock held by another writer) no longer stalls its downloads.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage import archive as archive_store
from storage import articles as article_store
from storage import dedup, frontier, processes, reextraction, site_profiles, values
from storage import signals as signal_store
from storage import runs as run_log
from storage.clustering import ClusterBatch
from storage.db import OUTAGE_RETRIES, is_outage, open_database, run_in_transaction
from storage.site_profiles import ProfileSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

__all__ = ["BatchTarget", "BatchWriter", "FetchResult", "WriteFailed", "write_batch"]


@dataclass
class FetchResult:
    """What became of one fetched URL: an article to store, or an outcome with its reason."""

    url: str
    status: int | None
    size: int | None
    outcome: str
    reason: str | None
    #: The frontier's URL for this fetch: marked done in the transaction that stores the result.
    frontier_url: str | None = None
    article: article_store.ArticleIn | None = None
    etag: str | None = None
    last_modified: str | None = None
    #: The page lists stories: the frontier keeps it a hub (fetched again every run).
    hub: bool = False
    #: The hub's template (space-separated class-path hashes), evidence for pages built like it.
    template: str | None = None
    #: What the publisher says of the page's use, kept with the article stored from it.
    signals: signal_store.SignalsIn | None = None
    #: The WARC record of this fetch, when archived: its capture row gets the article stored.
    capture_id: str | None = None


@dataclass(frozen=True)
class WriteFailed:
    """A fetch that could not be written even alone: dead-lettered (its URL stays not done)."""

    error: str


@dataclass(frozen=True)
class BatchTarget:
    """Where a crawl's batches go: its database, source and run."""

    database_url: str
    source: str | None
    run_id: int
    near_duplicate_threshold: float | None = None
    #: Learn each source's template and strip it from stories (None: store bodies as read).
    site_profile: ProfileSettings | None = None
    #: The extractor that read the batch's pages: each story it stores is noted as read by it
    #: (``article_readings``), so ``reextract`` reads again only what a newer extractor or site
    #: profile could change (None: no note, every story is read by the next ``reextract``).
    extractor_version: str | None = None


@functools.lru_cache(maxsize=4)
def _sessions(database_url: str) -> sessionmaker[Session]:
    """One engine per database and process (the writer process lives for the whole crawl)."""
    return open_database(database_url)


def write_batch(target: BatchTarget, batch: Sequence[FetchResult]) -> list[str | WriteFailed]:
    """Write a batch; returns each fetch's recorded outcome, or why it could not be written."""
    sessions = _sessions(target.database_url)
    try:
        return run_in_transaction(sessions, lambda session: _write(session, target, batch), retries=OUTAGE_RETRIES)
    except Exception as exc:
        if is_outage(exc):
            logger.exception("batch of %d failed; writing its items one by one", len(batch))
        else:
            # Not retried: a value the database refuses fails the same way every time.
            logger.warning(
                "batch of %d refused (%s: %.300s); writing its items one by one", len(batch), type(exc).__name__, exc
            )
        return [_write_alone(sessions, target, fetch) for fetch in batch]


def _write(session: Session, target: BatchTarget, batch: Sequence[FetchResult]) -> list[str]:
    options = {}
    if target.near_duplicate_threshold is not None:
        options["threshold"] = target.near_duplicate_threshold
    rows = []
    outcomes = []
    captured = []
    stored = []
    # The URL and body-hash keys of the batch's articles are locked at once, in sorted order (see
    # article_store.lock_for); each article is then made ready as its source's profile stood when
    # the batch began, and the band keys of the bodies it ends with are locked when the batch is
    # clustered. If a body stripped of template blocks ever crosses another writer's hash key, the
    # database's deadlock check fails this batch and it is written again one article at a time.
    items = [_with_storable_urls(fetch.article, fetch) if fetch.article is not None else None for fetch in batch]
    lookups = article_store.lock_for(session, [item for item in items if item is not None])
    clusters = ClusterBatch(options.get("threshold", dedup.DEFAULT_NEAR_DUPLICATE_THRESHOLD))
    for fetch, item in zip(batch, items, strict=True):
        article_id = None
        outcome = fetch.outcome
        reason = fetch.reason
        profiled = None
        if item is not None:
            if target.site_profile is not None:
                profiled = site_profiles.prepare_page(session, item, target.site_profile)
                item = profiled.item
            result = article_store.store_article(session, item, clusters=clusters, lookups=lookups, **options)
            article_id = result.article_id
            outcome = result.outcome
            if outcome == "stored":
                stored.append((article_id, profiled))
            if outcome in ("stored", "updated") and target.extractor_version is not None:
                _note_reading(session, target, article_id, item.source)
            if outcome == "alias" or (outcome == "unchanged" and item.url != item.canonical_url):
                # Another URL of an article already stored (an alias, an AMP copy, a variant).
                outcome = "duplicate"
            elif outcome == "boilerplate":
                # The pages that showed this body before may hold stories of their own: ask again.
                frontier.recheck_next_run(session, target.source, result.urls, outcome=outcome)
                article_id = None
            if fetch.signals is not None and outcome in ("stored", "updated", "unchanged"):
                signal_store.record_article_signals(session, article_id, fetch.signals, item.fetched_at)
        elif fetch.article is not None:
            outcome, reason = "refused", f"URL over {values.MAX_URL_BYTES} bytes: not stored"
        if outcome == "duplicate" and reason is None and article_id is not None:
            reason = f"the story of article {article_id}"  # runs show names which one
        outcomes.append(outcome)
        if article_id is not None and fetch.capture_id is not None:
            captured.append((fetch.capture_id, article_id))
        _note_removal(session, fetch)
        if fetch.frontier_url is not None:
            frontier.complete(
                session,
                target.source,
                fetch.frontier_url,
                outcome=outcome,
                run_id=target.run_id,
                etag=fetch.etag,
                last_modified=fetch.last_modified,
                hub=fetch.hub,
                template=fetch.template,
            )
        rows.append(
            {
                "url": fetch.url,
                "status": fetch.status,
                "bytes": fetch.size,
                "outcome": outcome,
                "reason": reason,
                "article_id": article_id,
                "body_chars": profiled.body_chars if profiled is not None else None,
                "template_chars": profiled.template_chars if profiled is not None else None,
            }
        )
    run_log.record_fetches(session, target.run_id, rows)
    archive_store.link_articles(session, captured)
    # Near the commit: clustering locks the batch's LSH band keys, which another writer storing a
    # near-copy of one of its stories waits for; taken first, they would be held for the whole batch.
    clusters.assign(session.connection())
    # Last, just before the commit: counting the batch's pages locks their sources' profile rows,
    # and every worker crawling those sources waits for them. Taken first, they would be held for
    # the whole batch and the workers' batches would run one at a time. A profile that matures here strips this
    # batch's stories too, as part of storing them (the source's earlier ones are re-cleaned).
    fresh = {article_id for article_id, _ in stored}
    learned = [profiled for _, profiled in stored if profiled is not None]
    if learned:
        site_profiles.learn_pages(session, learned, target.site_profile, fresh=fresh)
    return outcomes


#: The outcome of a reading noted when a crawl or an import stored the story.
FETCHED_READING = "fetched"


def _note_reading(session: Session, target: BatchTarget, article_id: int, source: str) -> None:
    """Note that the stored text is the extractor's reading with the site profile it was stripped
    with (a profile that matures later re-cleans the story and gives it another digest: read again)."""
    blocks = site_profiles.load_profile(session, source) if target.site_profile is not None else frozenset()
    reextraction.record_reading(
        session, article_id, extractor_version=target.extractor_version,
        site_profile=reextraction.profile_digest(blocks), outcome=FETCHED_READING,
    )  # fmt: skip


#: HTTP statuses that say a page is gone: a stored story answering one is marked removed.
GONE_STATUSES = frozenset({404, 410})


def _note_removal(session: Session, fetch: FetchResult) -> None:
    """A re-fetch of a stored story that found it gone marks it removed; a 304 says it is back.

    A redirect home is checked first: the home page it ends on may well answer 304.
    """
    if fetch.status in GONE_STATUSES:
        urls = [url for url in (fetch.url, fetch.frontier_url) if url is not None]
    elif fetch.frontier_url is not None and article_store.redirects_home(fetch.frontier_url, fetch.url):
        urls = [fetch.frontier_url]
    elif fetch.status == 304:
        article_store.mark_republished(session, [url for url in (fetch.url, fetch.frontier_url) if url is not None])
        return
    else:
        return
    for article_id in article_store.mark_removed(session, urls, datetime.now(UTC)):
        logger.info(
            "article %d marked removed: a re-fetch of %s gave HTTP %s at %s", article_id, urls[-1], fetch.status, fetch.url
        )


def _with_storable_urls(item: article_store.ArticleIn, fetch: FetchResult) -> article_store.ArticleIn | None:
    """``item`` with URLs short enough to store, or None when no URL of it is.

    A canonical URL over the limit gives way to the URL fetched, and that to the frontier's URL
    (a redirect to a 9 KB URL still came from a URL we asked for).
    """
    if values.fits_url(item.canonical_url):
        return item
    fallback = next((url for url in (item.url, fetch.frontier_url) if url and values.fits_url(url)), None)
    if fallback is None:
        logger.warning("not storing %.200s: no URL of it is under %d bytes", fetch.url, values.MAX_URL_BYTES)
        return None
    logger.info(
        "canonical URL of %.200s is over %d bytes; stored under %.200s", fetch.url, values.MAX_URL_BYTES, fallback
    )
    return dataclasses.replace(item, canonical_url=fallback)


def _write_alone(sessions: sessionmaker[Session], target: BatchTarget, fetch: FetchResult) -> str | WriteFailed:
    try:
        [outcome] = run_in_transaction(
            sessions, lambda session: _write(session, target, [fetch]), retries=OUTAGE_RETRIES
        )
        return outcome
    except Exception as exc:
        logger.error("dead-lettering %s: %s", fetch.url, exc)
        payload = {"outcome": fetch.outcome, "reason": fetch.reason, "frontier_url": fetch.frontier_url}
        if fetch.article is not None:
            article = dataclasses.replace(fetch.article, fingerprint=None)  # derived from the text
            payload["article"] = json.loads(json.dumps(dataclasses.asdict(article), default=str))
        try:
            dead_letter = functools.partial(_dead_letter, target=target, fetch=fetch, payload=payload, error=exc)
            run_in_transaction(sessions, dead_letter, retries=OUTAGE_RETRIES)
        except Exception:
            logger.exception("could not dead-letter %s; it will be fetched again next run", fetch.url)
        return WriteFailed(f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500])


def _dead_letter(
    session: Session, *, target: BatchTarget, fetch: FetchResult, payload: dict, error: Exception
) -> None:
    """Keep the fetch for a replay, and close its frontier row as failed with the crawl log saying why.

    One transaction: a dead-lettered URL is never left leased, and a later run tries it again.
    """
    run_log.record_dead_letter(session, url=fetch.url, source=target.source, payload=payload, error=repr(error))
    if fetch.frontier_url is not None:
        frontier.complete(session, target.source, fetch.frontier_url, outcome="error", run_id=target.run_id)
    run_log.record_fetches(
        session,
        target.run_id,
        [
            {
                "url": fetch.url,
                "status": fetch.status,
                "bytes": fetch.size,
                "outcome": "error",
                "reason": f"not stored (dead-lettered): {type(error).__name__}: {error}",
            }
        ],
    )


def _start_writer(log_options: dict, crawl_pid: int) -> None:
    # The writer keeps going until the crawl closes it (the crawl hands over its last batch when it
    # shuts down): it runs outside the crawl's process group (see storage.processes), and ignores
    # Ctrl-C should it reach it anyway. It dies with the crawl, with its connection.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    processes.die_with_parent()
    processes.watch_parent(crawl_pid)
    # The writer's records go where the crawl's go, in the crawl's format.
    logging.basicConfig(**log_options)


class BatchWriter:
    """Writes batches with :func:`write_batch` in one writer process, first in, first written.

    ``in_process=True`` writes in the calling process instead (and so does a writer whose process
    died: the crawl goes on, slower, rather than losing what it fetched).
    """

    def __init__(self, target: BatchTarget, *, in_process: bool = False, log_options: dict | None = None):
        """``log_options``: :func:`logging.basicConfig` arguments for the writer process."""
        self.target = target
        self.executor: ProcessPoolExecutor | None = None
        if not in_process:
            # forkserver: the writer must not inherit the crawl's reactor, threads and sockets.
            context = processes.forkserver_context("storage.batches")
            processes.start_forkserver()
            self.executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_start_writer,
                initargs=(log_options or {"level": logging.INFO}, os.getpid()),
            )

    def submit(self, batch: Sequence[FetchResult]) -> Future[list[str | WriteFailed]]:
        if self.executor is not None:
            try:
                return self.executor.submit(write_batch, self.target, list(batch))
            except RuntimeError as exc:  # BrokenProcessPool, or shut down
                self.write_here_from_now_on(exc)
        return self.write_here(batch)

    def write_here(self, batch: Sequence[FetchResult]) -> Future[list[str | WriteFailed]]:
        """Write ``batch`` in this process; the returned future is already done."""
        future: Future[list[str | WriteFailed]] = Future()
        try:
            future.set_result(write_batch(self.target, batch))
        except Exception as exc:  # noqa: BLE001 - handed to whoever waits on the future
            future.set_exception(exc)
        return future

    def write_here_from_now_on(self, reason: BaseException) -> None:
        if self.executor is not None:
            logger.error("writer process failed (%s); writing in the crawl process from now on", reason)
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None

    def close(self) -> None:
        """Wait for every batch handed over, then stop the writer process."""
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None
