"""The crawl frontier: a URL queue in the database that survives crashes and can be shared.

Each (source, URL) has one row moving pending -> leased -> done / failed. A worker leases a few
rows at a time under its worker id (``lease_owner``) until ``lease_expires_at``, and renews its
leases while it lives (:func:`renew`, a heartbeat): a worker that stops renewing (kill -9, a lost
machine, a hung process) loses its URLs to the others once they expire, within the same run, and
leases held by a process of this host that is gone are reclaimed at once. A URL is marked done only in the transaction that
stores its result, so a kill -9 loses nothing and stores nothing twice.

A later run re-opens what may have changed: hubs (sitemaps, feeds, robots, start URLs, and pages
that were not articles, such as home and section pages) every run; articles only when a sitemap or
feed says they changed after we fetched them, or when the recrawl interval has passed. A page once
known to list stories stays a hub (``hub``) whatever a later fetch makes of it, and a URL first
found as a link and later known to be a feed or sitemap takes that kind.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage import hosts, values
from storage.db import dialect_insert
from storage.models import FrontierEntry

__all__ = [
    "FrontierUrl",
    "LeasedUrl",
    "add_urls",
    "complete",
    "frontier_counts",
    "has_pending",
    "lease",
    "lease_owner",
    "worker_name",
    "recheck_next_run",
    "owner_is_alive",
    "reclaim_orphaned",
    "release",
    "renew",
    "reopen_due_articles",
    "reopen_hubs",
    "story_urls",
    "hub_templates",
    "mark_chrome",
    "chrome_urls",
]

logger = logging.getLogger(__name__)

PENDING, LEASED, DONE, FAILED = "pending", "leased", "done", "failed"

#: Outcomes of an article page: once stored, it is not fetched again unless it may have changed.
ARTICLE_OUTCOMES = frozenset({"stored", "updated", "unchanged", "duplicate", "interstitial", "boilerplate"})
#: Outcomes of a page that was read as a story (the crawl's evidence that pages linking to it list stories).
STORY_OUTCOMES = frozenset({"stored", "updated", "unchanged", "duplicate", "alias"})
#: Article outcomes that may hide a story not yet seen (a copy of another page, a wall, a body many
#: pages showed): such a URL is asked again on each later run until it has been fetched this many
#: times. Then it is an article like the others (asked again when it may have changed): a site
#: that walls every story for good is not fetched in full on every run.
RECHECKS = {"duplicate": 4, "interstitial": 6, "boilerplate": 6}
#: How often a URL that failed is tried again in later runs.
MAX_ATTEMPTS = 3
#: Kinds a URL first queued as a page may turn out to be (a feed advertised after it was linked).
DOCUMENT_KINDS = frozenset({"feed", "sitemap"})


@dataclass(frozen=True, slots=True)
class FrontierUrl:
    """A URL discovered by the crawl; ``lastmod`` is what a sitemap or feed says of it."""

    url: str
    kind: str = "page"
    depth: int = 0
    priority: int = 0
    lastmod: datetime | None = None
    #: Known to list stories (a start URL): never done for good, whatever its fetch makes of it.
    hub: bool = False


@dataclass(frozen=True, slots=True)
class LeasedUrl:
    url: str
    kind: str
    depth: int
    priority: int
    etag: str | None
    last_modified: str | None
    hub: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """``value`` with a naive datetime read as UTC, so comparing dates can never raise.

    Dates come in aware from the crawl, but a caller may pass a naive one, and a row still in the
    session keeps what it was given: a ``TypeError`` here would lose the whole batch being added.
    """
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def worker_name() -> str:
    """This crawl process among the workers sharing a frontier: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_owner(run_id: int) -> str:
    """Who holds a lease: host, process and run, so orphaned leases can be recognised."""
    return f"{worker_name()}:{run_id}"


def owner_is_alive(owner: str) -> bool:
    """False when the owner ran on this host and its process is gone; other hosts wait for expiry."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _should_reopen(
    row: FrontierEntry, item: FrontierUrl, run_id: int, recrawl_after: timedelta | None, now: datetime
) -> bool:
    if row.state in (PENDING, LEASED) or row.run_id == run_id:
        return False
    if row.state == FAILED or row.outcome == "error":
        return row.attempts < MAX_ATTEMPTS
    if row.hub or row.kind != "page" or row.outcome not in ARTICLE_OUTCOMES:
        return True
    if row.attempts < RECHECKS.get(row.outcome, 0):
        return True
    done_at = _aware(row.done_at or row.discovered_at)
    lastmod = _aware(item.lastmod)
    if lastmod is not None:
        # Newer than the date the sitemap or feed gave before; with no earlier date, newer than
        # our fetch.
        earlier = _aware(row.lastmod) or done_at
        if earlier is None or lastmod > earlier:
            return True
    return recrawl_after is not None and done_at is not None and _aware(now) - done_at >= recrawl_after


def _merged(items: Sequence[FrontierUrl]) -> list[FrontierUrl]:
    """One item per URL, keeping what each sighting told: a feed advertised in a page's head and
    linked in its footer is a feed, and a start URL met as a link is still a hub."""
    by_url: dict[str, FrontierUrl] = {}
    for item in items:
        seen = by_url.get(item.url)
        if seen is None:
            by_url[item.url] = item
            continue
        by_url[item.url] = FrontierUrl(
            url=item.url,
            kind=seen.kind if seen.kind != "page" else item.kind,
            depth=min(seen.depth, item.depth),
            priority=max(seen.priority, item.priority),
            lastmod=max((d for d in (seen.lastmod, item.lastmod) if d is not None), default=None),
            hub=seen.hub or item.hub,
        )
    return list(by_url.values())


def add_urls(
    session: Session,
    source: str,
    items: Sequence[FrontierUrl],
    *,
    run_id: int,
    recrawl_after: timedelta | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Adds URLs; returns those that became pending (new, or re-opened for this run)."""
    now = _aware(now) or _now()
    too_long = [item.url for item in items if not values.fits_url(item.url)]
    if too_long:
        # The (source, url) index cannot hold them, and no page of ours is named by one.
        logger.info("frontier of %s: refused %d URL(s) over %d bytes, e.g. %.200s",
                    source, len(too_long), values.MAX_URL_BYTES, too_long[0])
        items = [item for item in items if values.fits_url(item.url)]
    if not items:
        return []
    items = [replace(item, url=values.text(item.url), lastmod=_aware(item.lastmod)) for item in items]
    insert = dialect_insert(session, FrontierEntry.__table__)
    items = _merged(items)
    new_rows = [
        {
            "source": source,
            "url": item.url,
            "kind": item.kind,
            "depth": item.depth,
            "priority": item.priority,
            "state": PENDING,
            "attempts": 0,
            "discovered_at": now,
            "lastmod": item.lastmod,
            "hub": item.hub,
        }
        for item in items
    ]
    inserted = set(
        session.scalars(
            insert.values(new_rows).on_conflict_do_nothing(index_elements=["source", "url"]).returning(FrontierEntry.url)
        )
    )
    by_url = {item.url: item for item in items if item.url not in inserted}
    rows = (
        session.scalars(
            sa.select(FrontierEntry).where(FrontierEntry.source == source, FrontierEntry.url.in_(list(by_url)))
        ).all()
        if by_url
        else []
    )
    became_pending = [item.url for item in items if item.url in inserted]
    for row in rows:
        item = by_url[row.url]
        # What a URL is only grows: a start URL is a hub from now on, a linked URL that turns out
        # to be a feed or sitemap is one (the session writes these with the next statement).
        if item.hub and not row.hub:
            row.hub = True
        if item.kind in DOCUMENT_KINDS and row.kind == "page":
            row.kind = item.kind
        if _should_reopen(row, item, run_id, recrawl_after, now):
            # Conditional update: another worker may have re-opened it in the meantime.
            reopened = session.execute(
                sa.update(FrontierEntry)
                .where(FrontierEntry.id == row.id, FrontierEntry.state.in_((DONE, FAILED)))
                .values(state=PENDING, depth=min(row.depth, item.depth), lastmod=item.lastmod or row.lastmod)
            )
            if reopened.rowcount:
                became_pending.append(row.url)
        elif item.lastmod is not None and row.lastmod is None:
            # First seen through a link, now dated by a sitemap or feed: keep the date, so a
            # later, newer one shows the article changed.
            session.execute(sa.update(FrontierEntry).where(FrontierEntry.id == row.id).values(lastmod=item.lastmod))
    return became_pending


def lease(
    session: Session,
    source: str,
    *,
    owner: str,
    limit: int,
    lease_seconds: float,
    now: datetime | None = None,
    host_slots: bool = False,
) -> list[LeasedUrl]:
    """Takes up to ``limit`` pending (or expired) URLs, highest priority first.

    ``host_slots`` (shared host politeness): in the same transaction the URLs' host rows are locked
    ``FOR UPDATE SKIP LOCKED`` and a host hands out at most the slots it has free
    (:func:`storage.hosts.free_slots`): none while paused by a Retry-After, and, while other
    processes are fetching from it, only what their requests leave free. The URLs over that stay
    pending for the others. A host only this process fetches from gives its whole batch, as without.
    """
    now = now or _now()
    candidates = (
        sa.select(FrontierEntry.id)
        .where(
            FrontierEntry.source == source,
            sa.or_(
                FrontierEntry.state == PENDING,
                sa.and_(FrontierEntry.state == LEASED, FrontierEntry.lease_expires_at < now),
            ),
        )
        .order_by(FrontierEntry.priority.desc(), FrontierEntry.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates))
    if ids and host_slots:
        ids = _within_host_slots(session, ids, owner)
    if not ids:
        return []
    session.execute(
        sa.update(FrontierEntry)
        .where(FrontierEntry.id.in_(ids))
        .values(state=LEASED, lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    rows = session.scalars(
        sa.select(FrontierEntry)
        .where(FrontierEntry.id.in_(ids))
        .order_by(FrontierEntry.priority.desc(), FrontierEntry.id)
    )
    return [LeasedUrl(r.url, r.kind, r.depth, r.priority, r.etag, r.last_modified, r.hub) for r in rows]


def _within_host_slots(session: Session, ids: list[int], owner: str) -> list[int]:
    """The candidate ids (in lease order) that their hosts' free slots allow."""
    urls = dict(session.execute(sa.select(FrontierEntry.id, FrontierEntry.url).where(FrontierEntry.id.in_(ids))).all())
    slots = hosts.free_slots(session, (hosts.host_of(url) for url in urls.values()), owner=owner)
    taken: list[int] = []
    for row_id in ids:
        host = hosts.host_of(urls[row_id])
        if slots[host] is None:
            taken.append(row_id)
        elif slots[host] > 0:
            slots[host] -= 1
            taken.append(row_id)
    return taken


def complete(
    session: Session,
    source: str,
    url: str,
    *,
    outcome: str,
    run_id: int,
    etag: str | None = None,
    last_modified: str | None = None,
    hub: bool = False,
    template: str | None = None,
    now: datetime | None = None,
) -> None:
    """Marks a URL done (or failed, for outcome ``error``) with what its fetch led to.

    ``hub``: the page was read as a list of stories; it stays a hub (an earlier verdict is kept).
    ``template``: the hub's template as read now (kept until a later read gives another).
    """
    failed = outcome == "error"
    changes: dict = {
        "state": FAILED if failed else DONE,
        "outcome": outcome,
        "run_id": run_id,
        "done_at": now or _now(),
        "lease_owner": None,
        "lease_expires_at": None,
        "attempts": FrontierEntry.attempts + 1,
    }
    if etag is not None or last_modified is not None:
        changes.update(
            etag=values.capped(etag, "etag"), last_modified=values.capped(last_modified, "last_modified")
        )
    if hub:
        changes["hub"] = True
    if template is not None:
        changes["template"] = template
    if outcome == "unchanged":
        # A 304 says the page is what it was: one that was no article is still none.
        changes["outcome"] = sa.case((_was_no_article(), FrontierEntry.outcome), else_=outcome)
    session.execute(
        sa.update(FrontierEntry).where(FrontierEntry.source == source, FrontierEntry.url == url).values(**changes)
    )


def recheck_next_run(session: Session, source: str | None, urls: Iterable[str], *, outcome: str) -> int:
    """Gives done URLs an outcome of :data:`RECHECKS`, so that the next run fetches them again.

    For pages found to have shown the source's boilerplate (a wall) instead of their story.
    """
    if outcome not in RECHECKS:
        raise ValueError(f"{outcome!r} would not re-open the URLs")
    result = session.execute(
        sa.update(FrontierEntry)
        .where(FrontierEntry.source == source, FrontierEntry.url.in_(list(urls)), FrontierEntry.state == DONE)
        .values(outcome=outcome)
    )
    return result.rowcount or 0


def renew(
    session: Session, source: str, owner: str, *, lease_seconds: float, now: datetime | None = None
) -> int:
    """The heartbeat: pushes the expiry of every URL ``owner`` holds to now + ``lease_seconds``.

    Returns how many leases were renewed. A lease already taken over by another worker (it expired
    first) is not the owner's any more and stays with its new holder. A row another transaction
    holds (the batch writer marking it done) is skipped, not waited for: a heartbeat stuck behind
    a long batch comes too late for every other lease, and that row is being finished anyway (if
    its batch fails, the next heartbeat, a third of a lease later, renews it).
    """
    now = now or _now()
    held = (
        sa.select(FrontierEntry.id)
        .where(FrontierEntry.source == source, FrontierEntry.state == LEASED, FrontierEntry.lease_owner == owner)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        sa.update(FrontierEntry)
        .where(FrontierEntry.id.in_(held.scalar_subquery()))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def release(session: Session, source: str, owner: str, urls: Iterable[str] | None = None) -> int:
    """Gives leased URLs back (all of the owner's, or just ``urls``) so another worker can take them."""
    condition = [FrontierEntry.source == source, FrontierEntry.state == LEASED, FrontierEntry.lease_owner == owner]
    if urls is not None:
        condition.append(FrontierEntry.url.in_(list(urls)))
    result = session.execute(
        sa.update(FrontierEntry).where(*condition).values(state=PENDING, lease_owner=None, lease_expires_at=None)
    )
    return result.rowcount or 0


def _was_no_article() -> sa.ColumnElement[bool]:
    """The row's last fetch found no article (a listing, a section page the extractor refused, a
    skipped one): what :func:`_should_reopen` re-opens whatever the dates say."""
    return sa.and_(FrontierEntry.outcome.not_in(ARTICLE_OUTCOMES), FrontierEntry.outcome != "error")


def reopen_hubs(session: Session, source: str, *, run_id: int) -> int:
    """Makes every hub of the source pending for this run: start URLs, home, section and tag
    pages (any page that was not an article), feeds, sitemaps and robots.txt are fetched again
    (conditionally) on every run.

    Not left to re-discovery: a hub that answers 304 lists nothing, so the feeds and sitemaps
    below it would otherwise never be asked again.
    """
    is_hub = sa.or_(FrontierEntry.hub, FrontierEntry.kind != "page", _was_no_article())
    may_retry = sa.or_(
        FrontierEntry.state == DONE, sa.and_(FrontierEntry.state == FAILED, FrontierEntry.attempts < MAX_ATTEMPTS)
    )
    result = session.execute(
        sa.update(FrontierEntry)
        .where(
            FrontierEntry.source == source,
            is_hub,
            may_retry,
            sa.or_(FrontierEntry.run_id.is_(None), FrontierEntry.run_id != run_id),
        )
        .values(state=PENDING)
    )
    return result.rowcount or 0


def reopen_due_articles(
    session: Session, source: str, *, run_id: int, recrawl_after: timedelta, now: datetime | None = None
) -> int:
    """Makes pending the stored articles fetched longer than ``recrawl_after`` ago.

    Done here rather than when a hub lists them again: hubs are fetched conditionally, and one
    that answers 304 (or no longer lists a story) would never bring its articles back.
    """
    now = now or _now()
    result = session.execute(
        sa.update(FrontierEntry)
        .where(
            FrontierEntry.source == source,
            FrontierEntry.state == DONE,
            FrontierEntry.kind == "page",
            FrontierEntry.outcome.in_(ARTICLE_OUTCOMES),
            FrontierEntry.done_at <= now - recrawl_after,
            sa.or_(FrontierEntry.run_id.is_(None), FrontierEntry.run_id != run_id),
        )
        .values(state=PENDING)
    )
    return result.rowcount or 0


def reclaim_orphaned(session: Session, source: str, is_alive: Callable[[str], bool] = owner_is_alive) -> int:
    """Returns to pending the leases of workers that no longer exist (a kill -9, a crash)."""
    owners = session.scalars(
        sa.select(FrontierEntry.lease_owner)
        .where(FrontierEntry.source == source, FrontierEntry.state == LEASED)
        .distinct()
    ).all()
    dead = [owner for owner in owners if owner and not is_alive(owner)]
    return sum(release(session, source, owner) for owner in dead)


def has_pending(session: Session, source: str, now: datetime | None = None, *, owner: str | None = None) -> bool:
    """Whether the source has URLs to fetch; with ``owner``, also URLs other live workers hold,
    since fetching them may add more (a worker that quits early would leave the rest to them)."""
    now = now or _now()
    takeable = sa.or_(
        FrontierEntry.state == PENDING,
        sa.and_(FrontierEntry.state == LEASED, FrontierEntry.lease_expires_at < now),
    )
    if owner is not None:
        takeable = sa.or_(takeable, sa.and_(FrontierEntry.state == LEASED, FrontierEntry.lease_owner != owner))
    query = sa.select(FrontierEntry.id).where(FrontierEntry.source == source, takeable)
    return session.execute(query.limit(1)).first() is not None


def frontier_counts(session: Session, source: str | None = None) -> dict[str, int]:
    query = sa.select(FrontierEntry.state, sa.func.count()).group_by(FrontierEntry.state)
    if source is not None:
        query = query.where(FrontierEntry.source == source)
    return {state: count for state, count in session.execute(query)}


def hub_templates(session: Session, *, source: str | None = None, limit: int) -> list[tuple[str, str]]:
    """(URL, template) of hubs whose template is known (of one source, or of all), the most
    recently read first."""
    query = sa.select(FrontierEntry.url, FrontierEntry.template).where(
        FrontierEntry.hub, FrontierEntry.template.is_not(None)
    )
    if source is not None:
        query = query.where(FrontierEntry.source == source)
    rows = session.execute(query.order_by(FrontierEntry.done_at.desc()).limit(limit))
    return [(url, template) for url, template in rows]


def mark_chrome(session: Session, source: str, urls: Iterable[str]) -> None:
    """Marks URLs of the source as linked by its site's frame (menu, footer)."""
    urls = list(urls)
    if urls:
        session.execute(
            sa.update(FrontierEntry)
            .where(FrontierEntry.source == source, FrontierEntry.url.in_(urls))
            .values(chrome=True)
        )


def chrome_urls(session: Session, *, source: str | None = None, limit: int) -> list[str]:
    """URLs the site's frame links (of one source, or of all)."""
    query = sa.select(FrontierEntry.url).where(FrontierEntry.chrome)
    if source is not None:
        query = query.where(FrontierEntry.source == source)
    return list(session.scalars(query.limit(limit)))


def story_urls(session: Session, source: str, *, limit: int) -> list[str]:
    """The source's URLs last read as stories, the most recent first (at most ``limit``)."""
    return list(
        session.scalars(
            sa.select(FrontierEntry.url)
            .where(
                FrontierEntry.source == source,
                FrontierEntry.kind == "page",
                sa.not_(FrontierEntry.hub),
                FrontierEntry.outcome.in_(STORY_OUTCOMES),
            )
            .order_by(FrontierEntry.done_at.desc())
            .limit(limit)
        )
    )
