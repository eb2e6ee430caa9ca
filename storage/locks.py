"""Named locks with a time to live, kept in the database: one scheduled crawl per source at a time.

Several schedulers (on one machine or on many sharing PostgreSQL) may try to start the same
source; the ``source_locks`` row decides. Taking a lock is one ``INSERT ... ON CONFLICT DO UPDATE
... WHERE expired`` statement, so two takers cannot both see the lock free and both take it, which
a check-then-insert would allow. A holder renews its lock while it works; a holder that crashed
stops renewing, and its lock is free again once ``expires_at`` has passed.

Expiry is judged by the clocks of the machines taking locks, so they should agree to well within
the time to live (NTP does this). Like every storage function these take a ``Session`` and never
commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa

from storage.db import dialect_insert
from storage.models import SourceLock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["LockInfo", "acquire", "holder", "release", "renew"]


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def acquire(
    session: Session, name: str, owner: str, ttl: timedelta, *, now: datetime | None = None
) -> bool:
    """Take lock ``name`` for ``owner`` until now + ``ttl``, if it is free or expired.

    Returns whether ``owner`` holds the lock now. A lock held by someone else that has not expired
    is left alone.
    """
    now = _now(now)
    insert = dialect_insert(session, SourceLock).values(
        name=name, owner=owner, acquired_at=now, expires_at=now + ttl
    )
    taken = session.execute(
        insert.on_conflict_do_update(
            index_elements=[SourceLock.name],
            set_={
                "owner": insert.excluded.owner,
                "acquired_at": insert.excluded.acquired_at,
                "expires_at": insert.excluded.expires_at,
            },
            where=SourceLock.expires_at <= now,
        ).returning(SourceLock.owner)
    ).scalar_one_or_none()
    return taken == owner


def renew(session: Session, name: str, owner: str, ttl: timedelta, *, now: datetime | None = None) -> bool:
    """Push the expiry of ``owner``'s lock to now + ``ttl``; False if ``owner`` no longer holds it."""
    now = _now(now)
    result = session.execute(
        sa.update(SourceLock)
        .where(SourceLock.name == name, SourceLock.owner == owner)
        .values(expires_at=now + ttl)
    )
    return result.rowcount == 1


def release(session: Session, name: str, owner: str) -> bool:
    """Give up ``owner``'s lock; False if it was not held by ``owner`` (expired and taken over)."""
    result = session.execute(sa.delete(SourceLock).where(SourceLock.name == name, SourceLock.owner == owner))
    return result.rowcount == 1


class LockInfo(NamedTuple):
    owner: str
    acquired_at: datetime
    expires_at: datetime


def holder(session: Session, name: str, *, now: datetime | None = None) -> LockInfo | None:
    """Who holds lock ``name`` and until when; None when it is free or expired."""
    row = session.execute(
        sa.select(SourceLock.owner, SourceLock.acquired_at, SourceLock.expires_at).where(
            SourceLock.name == name, SourceLock.expires_at > _now(now)
        )
    ).one_or_none()
    return LockInfo(*row) if row is not None else None
