"""A crawl's results written in batches: articles, the crawl log and the frontier, one transaction each.

Each fetch is stored, logged and marked done in the frontier in the same transaction, so a crash
never leaves a URL done without its result. A batch that keeps failing is written fetch by fetch,
and a fetch that still fails goes to the dead-letter table (its URL stays not done, so the next run
fetches it again).

:class:`BatchWriter` runs the writes in a process of its own, in the order the batches were handed
over: the crawl process only schedules and downloads, and a slow database (PostgreSQL round trips,
an fsync, a lock held by another writer) no longer stalls its downloads.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import multiprocessing
import signal
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage import articles as article_store
from storage import frontier
from storage import runs as run_log
from storage.db import OUTAGE_RETRIES, open_database, run_in_transaction

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


@functools.lru_cache(maxsize=4)
def _sessions(database_url: str) -> sessionmaker[Session]:
    """One engine per database and process (the writer process lives for the whole crawl)."""
    return open_database(database_url)


def write_batch(target: BatchTarget, batch: Sequence[FetchResult]) -> list[str | WriteFailed]:
    """Write a batch; returns each fetch's recorded outcome, or why it could not be written."""
    sessions = _sessions(target.database_url)
    try:
        return run_in_transaction(sessions, lambda session: _write(session, target, batch), retries=OUTAGE_RETRIES)
    except Exception:
        logger.exception("batch of %d failed; writing its items one by one", len(batch))
        return [_write_alone(sessions, target, fetch) for fetch in batch]


def _write(session: Session, target: BatchTarget, batch: Sequence[FetchResult]) -> list[str]:
    options = {}
    if target.near_duplicate_threshold is not None:
        options["threshold"] = target.near_duplicate_threshold
    rows = []
    outcomes = []
    for fetch in batch:
        article_id = None
        outcome = fetch.outcome
        if fetch.article is not None:
            result = article_store.store_article(session, fetch.article, **options)
            article_id = result.article_id
            outcome = result.outcome
            if outcome == "alias" or (outcome == "unchanged" and fetch.article.url != fetch.article.canonical_url):
                # Another URL of an article already stored (an alias, an AMP copy, a variant).
                outcome = "duplicate"
        outcomes.append(outcome)
        if fetch.frontier_url is not None:
            frontier.complete(
                session,
                target.source,
                fetch.frontier_url,
                outcome=outcome,
                run_id=target.run_id,
                etag=fetch.etag,
                last_modified=fetch.last_modified,
            )
        rows.append(
            {
                "url": fetch.url,
                "status": fetch.status,
                "bytes": fetch.size,
                "outcome": outcome,
                "reason": fetch.reason,
                "article_id": article_id,
            }
        )
    run_log.record_fetches(session, target.run_id, rows)
    return outcomes


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
            with sessions.begin() as session:
                run_log.record_dead_letter(
                    session, url=fetch.url, source=target.source, payload=payload, error=repr(exc)
                )
        except Exception:
            logger.exception("could not dead-letter %s; it will be fetched again next run", fetch.url)
        return WriteFailed(f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500])


def _start_writer(log_options: dict) -> None:
    # Ctrl-C reaches the whole process group: the crawl shuts down gracefully and hands over its
    # last batch, so the writer must keep going until the crawl closes it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
            self.executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_start_writer,
                initargs=(log_options or {"level": logging.INFO},),
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
