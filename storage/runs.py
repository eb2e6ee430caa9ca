"""The crawl log: one ``crawl_runs`` row per crawl, one ``fetch_log`` row per URL fetched.

Like every storage function these take a ``Session`` and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage import values
from storage.frontier import owner_is_alive
from storage.models import CrawlRun, DeadLetter, FetchLog

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "FETCH_OUTCOMES",
    "RUN_STATUSES",
    "FetchRow",
    "SILENT_FOR",
    "RunRow",
    "beat",
    "finish_run",
    "get_run",
    "is_silent",
    "list_runs",
    "record_dead_letter",
    "record_fetch",
    "record_fetches",
    "run_fetches",
    "settle_abandoned_runs",
    "start_run",
]

FETCH_OUTCOMES = frozenset(
    {
        "stored",
        "updated",
        "unchanged",
        "alias",  # StoreResult outcomes can be logged as they are
        "duplicate",
        "not-an-article",
        "interstitial",  # a consent, pay or bot wall, or a JavaScript shell, in front of the story: tried again next run
        "boilerplate",  # the body many pages of the site share (a wall): no story; tried again next run
        "skipped-by-robots",
        "refused",  # the private-address guard stopped the request before it was sent
        "skipped",
        "error",
    }
)
#: ``finished-with-errors``: the crawl went on and stored things, but something raised on the way
#: (each error is in the run's ``error`` and, with its URL, in the crawl log).
RUN_STATUSES = frozenset({"running", "finished", "finished-with-errors", "failed", "interrupted"})
#: A live run's heartbeat (:func:`beat`) comes at least once a minute: one silent this long has
#: no process left (killed with SIGKILL, by the out-of-memory killer, or with its machine).
SILENT_FOR = timedelta(minutes=10)


@dataclass(frozen=True)
class RunRow:
    id: int
    source: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]
    error: str | None
    #: The crawl process that ran it (host:pid); None for runs recorded before workers were.
    worker: str | None = None
    #: Its last heartbeat; None for runs recorded before runs had one.
    seen_at: datetime | None = None


@dataclass(frozen=True)
class FetchRow:
    id: int
    run_id: int
    url: str
    status: int | None
    bytes: int | None
    outcome: str
    reason: str | None
    article_id: int | None
    fetched_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def start_run(
    session: Session, source: str | None, *, started_at: datetime | None = None, worker: str | None = None
) -> int:
    """``worker``: the crawl process (host:pid); the workers of one crawl each have a run."""
    started_at = started_at or _now()
    return session.execute(
        sa.insert(CrawlRun)
        .values(source=source, started_at=started_at, seen_at=started_at, status="running", counts={}, worker=worker)
        .returning(CrawlRun.id)
    ).scalar_one()


def beat(session: Session, run_id: int, *, now: datetime | None = None) -> None:
    """A live run's heartbeat: it is still running (see :data:`SILENT_FOR`)."""
    session.execute(
        sa.update(CrawlRun).where(CrawlRun.id == run_id, CrawlRun.status == "running").values(seen_at=now or _now())
    )


def is_silent(run: RunRow, *, now: datetime | None = None) -> bool:
    """A run still marked running that has given no sign of life for :data:`SILENT_FOR`."""
    return run.status == "running" and (run.seen_at or run.started_at) < (now or _now()) - SILENT_FOR


def settle_abandoned_runs(
    session: Session, *, now: datetime | None = None, is_alive: Callable[[str], bool] = owner_is_alive
) -> list[int]:
    """Mark ``interrupted`` every run abandoned: silent for :data:`SILENT_FOR`, or whose worker was a process
    of this machine that is gone, ended at its last heartbeat.

    Its process was killed before it could close the run; what it fetched is stored or pending in
    the frontier. Called as a command starts a run, so ``newsdesk runs`` stops saying "running":
    a crawl run again at once after kill -9 settles its killed run at once too.
    """
    last_seen = sa.func.coalesce(CrawlRun.seen_at, CrawlRun.started_at)
    silent_since = (now or _now()) - SILENT_FOR
    running = session.execute(
        sa.select(CrawlRun.id, CrawlRun.worker, last_seen < silent_since).where(CrawlRun.status == "running")
    ).all()
    silent = [run_id for run_id, _, quiet in running if quiet]
    gone = [run_id for run_id, worker, quiet in running if not quiet and worker and not is_alive(worker)]
    for run_ids, why in [
        (silent, f"no heartbeat for {SILENT_FOR.seconds // 60} minutes"),
        (gone, "its process is gone"),
    ]:
        if run_ids:
            session.execute(
                sa.update(CrawlRun)
                .where(CrawlRun.id.in_(run_ids), CrawlRun.status == "running")
                .values(status="interrupted", finished_at=last_seen, error=f"its process stopped without closing the run ({why})")
            )
    return sorted(silent + gone)


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    counts: Mapping[str, int],
    error: str | None = None,
    finished_at: datetime | None = None,
) -> None:
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}; expected one of {sorted(RUN_STATUSES)}")
    result = session.execute(
        sa.update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(
            status=status,
            counts={str(k): int(v) for k, v in counts.items()},
            error=values.capped(error, "error"),
            finished_at=finished_at or _now(),
        )
    )
    if result.rowcount == 0:
        raise LookupError(f"no crawl run with id {run_id}")


def _fetch_values(run_id: int, row: Mapping[str, Any]) -> dict[str, Any]:
    outcome = row["outcome"]
    if outcome not in FETCH_OUTCOMES:
        raise ValueError(f"unknown fetch outcome {outcome!r}; expected one of {sorted(FETCH_OUTCOMES)}")
    return {
        "run_id": run_id,
        "url": values.text(row["url"]),
        "status": row.get("status"),
        "bytes": row.get("bytes"),
        "outcome": outcome,
        "reason": values.capped(row.get("reason"), "reason"),
        "article_id": row.get("article_id"),
        "fetched_at": row.get("fetched_at") or _now(),
        "body_chars": row.get("body_chars"),
        "template_chars": row.get("template_chars"),
    }


def record_fetch(
    session: Session,
    run_id: int,
    *,
    url: str,
    status: int | None,
    bytes: int | None,  # noqa: A002 - the column's name
    outcome: str,
    reason: str | None = None,
    article_id: int | None = None,
    fetched_at: datetime | None = None,
) -> None:
    record_fetches(
        session,
        run_id,
        [
            {
                "url": url,
                "status": status,
                "bytes": bytes,
                "outcome": outcome,
                "reason": reason,
                "article_id": article_id,
                "fetched_at": fetched_at,
            }
        ],
    )


def record_fetches(session: Session, run_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """Log many fetches at once (dicts with the keyword arguments of :func:`record_fetch`)."""
    if not rows:
        return
    session.execute(sa.insert(FetchLog), [_fetch_values(run_id, row) for row in rows])


def record_dead_letter(
    session: Session,
    *,
    url: str,
    source: str | None,
    payload: Mapping[str, Any],
    error: str,
    created_at: datetime | None = None,
) -> None:
    """Keep an item that could not be stored, with its JSON payload, for a later replay."""
    session.execute(
        sa.insert(DeadLetter).values(
            url=values.text(url),
            source=source,
            payload=values.json_value(dict(payload)),
            error=values.capped(error, "error"),
            created_at=created_at or _now(),
        )
    )


def run_row(run: CrawlRun) -> RunRow:
    return RunRow(
        id=run.id,
        source=run.source,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        counts=dict(run.counts or {}),
        error=run.error,
        worker=run.worker,
        seen_at=run.seen_at,
    )


def list_runs(session: Session, limit: int = 20) -> list[RunRow]:
    runs = session.execute(
        sa.select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)
    ).scalars()
    return [run_row(run) for run in runs]


def get_run(session: Session, run_id: int) -> RunRow | None:
    if run_id > values.MAX_INTEGER:
        return None
    run = session.get(CrawlRun, run_id)
    return run_row(run) if run is not None else None


def run_fetches(session: Session, run_id: int, outcome: str | None = None) -> list[FetchRow]:
    stmt = sa.select(FetchLog).where(FetchLog.run_id == run_id).order_by(FetchLog.id)
    if outcome is not None:
        stmt = stmt.where(FetchLog.outcome == outcome)
    return [
        FetchRow(
            id=f.id,
            run_id=f.run_id,
            url=f.url,
            status=f.status,
            bytes=f.bytes,
            outcome=f.outcome,
            reason=f.reason,
            article_id=f.article_id,
            fetched_at=f.fetched_at,
        )
        for f in session.execute(stmt).scalars()
    ]


# -- for the scheduler: runs it has to settle itself ------------------------------------------------

#: Statuses the scheduler gives a run it ended: past its timeout, or stopped with the scheduler.
SCHEDULER_STATUSES = frozenset({"timed-out", "killed"})


def runs_since(session: Session, source: str, since: datetime) -> list[RunRow]:
    """The runs of ``source`` started at or after ``since``, oldest first."""
    runs = session.execute(
        sa.select(CrawlRun)
        .where(CrawlRun.source == source, CrawlRun.started_at >= since)
        .order_by(CrawlRun.started_at, CrawlRun.id)
    ).scalars()
    return [run_row(run) for run in runs]


def last_runs(session: Session, sources: Sequence[str]) -> dict[str, RunRow]:
    """The latest run of each of ``sources`` that has one."""
    latest = {}
    for source in sources:
        run = session.execute(
            sa.select(CrawlRun)
            .where(CrawlRun.source == source)
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if run is not None:
            latest[source] = run_row(run)
    return latest


def settle_run(
    session: Session, run_id: int, *, status: str, error: str | None = None, finished_at: datetime | None = None
) -> None:
    """Give a run the status the scheduler decided, keeping the counts the crawl recorded."""
    if status not in RUN_STATUSES | SCHEDULER_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run with id {run_id}")
    run.status = status
    run.error = error if error is not None else run.error
    run.finished_at = run.finished_at or finished_at or _now()


def record_run(
    session: Session,
    source: str,
    *,
    started_at: datetime,
    status: str,
    error: str | None = None,
    counts: Mapping[str, int] | None = None,
    finished_at: datetime | None = None,
) -> int:
    """Record a whole run at once: one the scheduler started that ended before it logged itself."""
    if status not in RUN_STATUSES | SCHEDULER_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    return session.execute(
        sa.insert(CrawlRun)
        .values(
            source=source,
            started_at=started_at,
            finished_at=finished_at or _now(),
            status=status,
            counts={str(k): int(v) for k, v in (counts or {}).items()},
            error=error,
        )
        .returning(CrawlRun.id)
    ).scalar_one()
