"""Re-extraction: a stored story read again, recorded as such and not as a new version.

A new version means the publisher changed the story. Reading the same publication better (a newer
extractor, a site profile that matured and strips the site's template text) changes what we hold
without the story changing: the article row takes the new values, its current version row the new
body, and ``reextractions`` keeps the values they replace. Full-text search follows the article row
(SQLite's triggers, PostgreSQL's generated column), as on every write.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from packaging.version import InvalidVersion, Version
from sqlalchemy.orm import Session

from storage import articles as article_store
from storage import dedup, values
from storage.db import dialect_insert
from storage.models import Article, ArticleReading, ArticleVersion, Reextraction, Source

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "REEXTRACTABLE_FIELDS",
    "ReextractSelection",
    "apply_reextraction",
    "articles_to_reread",
    "profile_digest",
    "record_reading",
    "sources_in",
]

#: The article fields a re-extraction may set, each with how its value is made fit for storage.
REEXTRACTABLE_FIELDS = {
    "title": lambda value: values.capped(value, "title"),
    "text": lambda value: values.text(value) or "",
    "authors": lambda value: [a for a in (values.capped(a, "author") for a in value or ()) if a],
    "published_at": lambda value: value,
    "modified_at": lambda value: value,
    "language": lambda value: values.capped(value, "language"),
    "description": lambda value: values.capped(value, "description"),
    "section": lambda value: values.capped(value, "section"),
    "tags": lambda value: [t for t in (values.capped(t, "tag") for t in value or ()) if t],
    "image_url": lambda value: values.text(value) if values.fits_url(value) else None,
    "word_count": int,
    "markdown": values.text,
}


def apply_reextraction(
    session_or_conn: Session | sa.Connection,
    article_id: int,
    new_fields: Mapping[str, Any],
    *,
    extractor_version: str,
    reason: str,
    recorded: bool = True,
) -> bool:
    """Give article ``article_id`` the ``new_fields`` that differ from what it holds; True when any did.

    Never commits and never makes a version: the changed fields' previous values go to
    ``reextractions`` (unless not ``recorded``: an article stored by this same transaction, whose
    previous values nobody ever saw). A new text also replaces the current version's body, content hash and
    near-duplicate keys, so the next fetch of the same page compares with what is now stored.
    """
    unknown = set(new_fields) - set(REEXTRACTABLE_FIELDS)
    if unknown:
        raise ValueError(f"not a re-extractable field: {', '.join(sorted(unknown))}")
    conn = session_or_conn.connection() if isinstance(session_or_conn, Session) else session_or_conn
    columns = [getattr(Article, name) for name in new_fields]
    current = conn.execute(
        sa.select(Article.version, Article.cluster_id, *columns).where(Article.id == article_id)
    ).one_or_none()
    if current is None:
        raise LookupError(f"no article {article_id}")
    changes = {}
    previous = {}
    for name, value in new_fields.items():
        value = REEXTRACTABLE_FIELDS[name](value)
        if _comparable(value) != _comparable(getattr(current, name)):
            changes[name] = value
            previous[name] = getattr(current, name)
    if not changes:
        return False
    now = datetime.now(UTC)
    if "text" in changes:
        body = dedup.fingerprint(changes["text"])
        changes["content_hash"] = body.content_hash
        changes["minhash"] = body.signature_bytes
        article_store.refresh_dedup(conn, article_id, body, now=now)
    conn.execute(sa.update(Article).where(Article.id == article_id).values(**changes))
    version_changes = {name: changes[name] for name in ("text", "title", "content_hash") if name in changes}
    if version_changes:
        conn.execute(
            sa.update(ArticleVersion)
            .where(ArticleVersion.article_id == article_id, ArticleVersion.version == current.version)
            .values(**version_changes)
        )
    if not recorded:
        return True
    conn.execute(
        sa.insert(Reextraction).values(
            article_id=article_id,
            at=now,
            extractor_version=values.capped(extractor_version, "reason") or "",
            reason=values.capped(reason, "reason") or "",
            previous=json.loads(json.dumps(previous, default=_json_default)),
        )
    )
    return True


def _comparable(value: Any) -> Any:
    """Stored and new values alike: tuples as lists, datetimes in UTC."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


# -- choosing what to read again (newsdesk reextract) ----------------------------------------------


@dataclass(frozen=True)
class ReextractSelection:
    """Which stored articles a re-extraction run reads again."""

    source: str | None = None
    #: Published (or, undated, first seen) at or after / before.
    since: datetime | None = None
    until: datetime | None = None
    #: Only articles last read by an extractor older than this version (or never re-read).
    older_than: str | None = None
    #: Also articles already read with the current extractor and site profile.
    everything: bool = False


def profile_digest(profile: Iterable[int]) -> str:
    """A short name for a site profile's template blocks ('' for none): a reading made with
    another digest did not strip what the profile strips now."""
    blocks = sorted(profile)
    if not blocks:
        return ""
    return hashlib.sha1(",".join(map(str, blocks)).encode("ascii")).hexdigest()[:16]


def sources_in(session: Session, selection: ReextractSelection) -> list[str]:
    """The names of the sources the selection covers (one, or all that have articles)."""
    query = sa.select(Source.name).where(sa.exists().where(Article.source_id == Source.id)).order_by(Source.name)
    if selection.source is not None:
        query = query.where(Source.name == selection.source)
    return list(session.scalars(query))


def articles_to_reread(
    session: Session, selection: ReextractSelection, source: str, *, extractor_version: str, site_profile: str
) -> list[int]:
    """Ids of ``source``'s articles the selection asks for, oldest first.

    Without ``everything``, an article last read with ``extractor_version`` and ``site_profile``
    is left out: there is nothing new to apply to it, and a run killed half-way resumes with what
    it had not read yet.
    """
    reading = ArticleReading
    query = (
        sa.select(Article.id)
        .join(Source, Source.id == Article.source_id)
        .outerjoin(reading, reading.article_id == Article.id)
        .where(Source.name == source)
        .order_by(Article.id)
    )
    published = sa.func.coalesce(Article.published_at, Article.first_seen_at)
    if selection.since is not None:
        query = query.where(published >= selection.since)
    if selection.until is not None:
        query = query.where(published < selection.until)
    if selection.older_than is not None:
        older = _versions_older_than(session, Version(selection.older_than))
        query = query.where(sa.or_(reading.article_id.is_(None), reading.extractor_version.in_(older)))
    if not selection.everything:
        query = query.where(
            sa.or_(
                reading.article_id.is_(None),
                reading.extractor_version != extractor_version,
                reading.site_profile != site_profile,
            )
        )
    return list(session.scalars(query))


def _versions_older_than(session: Session, version: Version) -> list[str]:
    """The recorded extractor versions below ``version``; one that is no version counts as older."""
    older = []
    for recorded in session.scalars(sa.select(ArticleReading.extractor_version).distinct()):
        try:
            if Version(recorded) < version:
                older.append(recorded)
        except InvalidVersion:
            older.append(recorded)
    return older


def record_reading(
    session_or_conn: Session | sa.Connection,
    article_id: int,
    *,
    extractor_version: str,
    site_profile: str,
    outcome: str,
) -> None:
    """Note that ``article_id`` was read again, with what, and what came of it (replacing the last note)."""
    conn = session_or_conn.connection() if isinstance(session_or_conn, Session) else session_or_conn
    row = {
        "article_id": article_id,
        "extractor_version": extractor_version[:100],
        "site_profile": site_profile,
        "read_at": datetime.now(UTC),
        "outcome": outcome[:100],
    }
    insert = dialect_insert(conn, ArticleReading.__table__)
    conn.execute(
        insert.values(row).on_conflict_do_update(
            index_elements=["article_id"], set_={key: value for key, value in row.items() if key != "article_id"}
        )
    )
