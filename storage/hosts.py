"""Host politeness shared by every crawl process on one database.

Each process keeps its own pace per host (Scrapy's download slots); four processes on one site
would hit it four times as hard. Here the pace lives in the ``hosts`` row every process consults
and updates under its row lock (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite lets one writer in
at a time): a request starts only when the host's delay has passed since the previous start by
any process, fewer than its concurrency are on the wire (``host_fetches``), and no Retry-After
pause holds it. Times come from the database's clock, so machines with skewed clocks agree.

Robots.txt is fetched by the one process that claims it and reused by the others until it
expires. A process that dies while fetching a page or robots.txt holds nothing for long: its
fetch rows and its claim live no longer than a frontier lease unless its heartbeat renews them
(:func:`renew`), so its host is free again when its URLs are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from storage.db import dialect_insert, dialect_name
from storage.models import Host, HostFetch

__all__ = [
    "Admission",
    "RobotsAnswer",
    "claim_robots",
    "finish",
    "finish_owner",
    "free_slots",
    "host_of",
    "pause",
    "renew",
    "start_sessions",
    "store_robots",
    "try_start",
]

#: How often a request waiting for a slot held by another process asks again (seconds).
SLOT_POLL_SECONDS = 0.05
#: A robots.txt that could not be read (5xx, timeout) is asked again after this long, at most
#: the keep period: the host is refused meanwhile (RFC 9309), so not for a day.
UNAVAILABLE_KEEP_SECONDS = 300.0


def host_of(url: str) -> str:
    """The host a URL's politeness is kept under: its netloc, lower-cased (robots.txt is per origin)."""
    return urlsplit(url).netloc.lower()


def database_now(session: Session) -> datetime:
    """Now, by the database's clock on PostgreSQL (one clock for every machine), else this one's."""
    if dialect_name(session) == "postgresql":
        return session.scalar(sa.select(sa.func.clock_timestamp()))
    return datetime.now(UTC)


def _locked_host(session: Session, host: str) -> Host:
    """The host's row, created if new, locked until the transaction ends."""
    session.execute(dialect_insert(session, Host.__table__).values(host=host).on_conflict_do_nothing(index_elements=["host"]))
    query = sa.select(Host).where(Host.host == host).execution_options(populate_existing=True)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).one()


@dataclass(frozen=True, slots=True)
class Admission:
    """What :func:`try_start` decided: a fetch row to finish later, or how long to wait first."""

    fetch_id: int | None
    wait: float = 0.0


def try_start(
    session: Session, host: str, *, owner: str, delay: float, concurrency: int, timeout: float
) -> Admission:
    """Records a request start on ``host`` if its politeness allows one now; else says how long to wait.

    ``delay`` is the crawl's floor (DOWNLOAD_DELAY); the host's robots.txt Crawl-delay raises it.
    The fetch row counts against ``concurrency`` until :func:`finish`, or ``timeout`` seconds.

    On PostgreSQL this is one statement (the ``newsdesk_try_start`` function of migration 0018),
    to be run on its own (:func:`start_sessions`): the host's row stays locked only while it runs.
    """
    if dialect_name(session) == "postgresql":
        call = sa.func.newsdesk_try_start(host, owner, delay, concurrency, timeout, SLOT_POLL_SECONDS)
        fetch_id, wait = session.execute(sa.select(sa.column("fetch_id"), sa.column("wait")).select_from(call)).one()
        return Admission(fetch_id, wait or 0.0)
    row = _locked_host(session, host)
    now = database_now(session)
    floor = max(delay, row.crawl_delay or 0.0)
    waits = []
    if row.paused_until is not None and row.paused_until > now:
        waits.append((row.paused_until - now).total_seconds())
    if row.last_start_at is not None and floor > 0:
        waits.append((row.last_start_at + timedelta(seconds=floor) - now).total_seconds())
    wait = max(waits, default=0.0)
    if wait > 0:
        return Admission(None, wait)
    live = sa.select(sa.func.count()).where(HostFetch.host == host, HostFetch.expires_at >= now)
    if session.scalar(live) >= concurrency:
        return Admission(None, SLOT_POLL_SECONDS)
    row.last_start_at, row.delay_seconds, row.concurrency = now, delay, concurrency
    fetch_id = session.scalar(
        sa.insert(HostFetch)
        .values(host=host, owner=owner, started_at=now, expires_at=now + timedelta(seconds=timeout))
        .returning(HostFetch.id)
    )
    return Admission(fetch_id)


def start_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions for :func:`try_start`: on PostgreSQL each statement commits as it ends (its one
    statement holds the host's row lock no longer than it runs, never across a round trip to a
    busy crawl process); SQLite's several statements keep their transaction."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return sessions
    return sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


def finish(session: Session, fetch_ids: Iterable[int]) -> None:
    """The requests answered (or failed): their slots are free."""
    ids = list(fetch_ids)
    if ids:
        session.execute(sa.delete(HostFetch).where(HostFetch.id.in_(ids)))


def finish_owner(session: Session, owner: str) -> None:
    """A process closing frees every slot it still holds."""
    session.execute(sa.delete(HostFetch).where(HostFetch.owner == owner))


def renew(session: Session, owner: str, *, lease_seconds: float) -> int:
    """The heartbeat of a live process: its fetch rows and robots.txt claims last ``lease_seconds``
    more. Returns how many fetch rows it holds. Rows are written with a lease's life at most, so a
    process killed mid-request frees its host when its frontier leases expire, not a whole
    DOWNLOAD_TIMEOUT later."""
    now = database_now(session)
    until = now + timedelta(seconds=lease_seconds)
    held = session.execute(sa.update(HostFetch).where(HostFetch.owner == owner).values(expires_at=until))
    session.execute(sa.update(Host).where(Host.robots_claimed_by == owner).values(robots_claimed_until=until))
    # Rows of processes that died: no start counts them any more; cleared here, off the hosts' locks.
    session.execute(sa.delete(HostFetch).where(HostFetch.expires_at < now))
    return held.rowcount or 0


def pause(session: Session, host: str, seconds: float) -> datetime:
    """No process starts a request on ``host`` for ``seconds`` (a later pause already set stays)."""
    row = _locked_host(session, host)
    until = database_now(session) + timedelta(seconds=seconds)
    if row.paused_until is None or row.paused_until < until:
        row.paused_until = until
    return row.paused_until


@dataclass(frozen=True, slots=True)
class RobotsAnswer:
    """What the database knows of a host's robots.txt.

    ``fetch``: this process claimed it and must fetch it (then :func:`store_robots`).
    ``wait``: another process is fetching it; ask again after that many seconds.
    Otherwise the stored answer: ``status`` and ``body``, or ``error`` when it was unavailable.
    """

    fetch: bool = False
    wait: float = 0.0
    status: int | None = None
    body: bytes | None = None
    error: str | None = None


def claim_robots(
    session: Session, host: str, *, owner: str, keep_seconds: float, claim_seconds: float
) -> RobotsAnswer:
    """The stored robots.txt of ``host`` while fresh; else a claim to fetch it, unless another
    process holds a live claim (then wait for it)."""
    row = _locked_host(session, host)
    now = database_now(session)
    if row.robots_fetched_at is not None:
        keep = min(keep_seconds, UNAVAILABLE_KEEP_SECONDS) if row.robots_error else keep_seconds
        if now - row.robots_fetched_at < timedelta(seconds=keep):
            return RobotsAnswer(status=row.robots_status, body=row.robots_body, error=row.robots_error)
    if row.robots_claimed_by not in (None, owner) and row.robots_claimed_until is not None and row.robots_claimed_until > now:
        return RobotsAnswer(wait=min(1.0, (row.robots_claimed_until - now).total_seconds()))
    row.robots_claimed_by = owner
    row.robots_claimed_until = now + timedelta(seconds=claim_seconds)
    return RobotsAnswer(fetch=True)


def store_robots(
    session: Session,
    host: str,
    *,
    status: int | None,
    body: bytes | None,
    error: str | None,
    crawl_delay: float | None,
) -> None:
    """Keeps the robots.txt just fetched (or why it could not be) for the other processes."""
    row = _locked_host(session, host)
    row.robots_status, row.robots_body, row.robots_error = status, body, error
    row.crawl_delay = crawl_delay
    row.robots_fetched_at = database_now(session)
    row.robots_claimed_by = row.robots_claimed_until = None


def free_slots(session: Session, hosts: Iterable[str], *, owner: str) -> dict[str, int | None]:
    """For a frontier lease: how many URLs of each host ``owner`` may take now.

    Host rows are locked ``FOR UPDATE SKIP LOCKED``: a host another process is leasing or starting
    a request on right now gives nothing this time (0). A paused host gives nothing; a host other
    processes are fetching from gives its slots they leave free; ``None`` is no cap (a host new to
    the table, or one only this process is fetching from).
    """
    hosts = sorted(set(hosts))
    if not hosts:
        return {}
    now = database_now(session)
    query = sa.select(Host).where(Host.host.in_(hosts)).order_by(Host.host)
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = {row.host: row for row in session.scalars(query)}
    known = set(session.scalars(sa.select(Host.host).where(Host.host.in_(hosts))))
    others = dict(
        session.execute(
            sa.select(HostFetch.host, sa.func.count())
            .where(HostFetch.host.in_(list(rows)), HostFetch.owner != owner, HostFetch.expires_at >= now)
            .group_by(HostFetch.host)
        ).all()
    )
    slots: dict[str, int | None] = {}
    for host in hosts:
        row = rows.get(host)
        if row is None:
            slots[host] = 0 if host in known else None  # locked by another process, or new
        elif row.paused_until is not None and row.paused_until > now:
            slots[host] = 0
        elif others.get(host):
            slots[host] = max(0, row.concurrency - others[host])
        else:
            slots[host] = None
    return slots
