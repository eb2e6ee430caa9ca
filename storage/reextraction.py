"""Re-extraction: a stored story read again, recorded as such and not as a new version.

A new version means the publisher changed the story. Reading the same publication better (a newer
extractor, a site profile that matured and strips the site's template text) changes what we hold
without the story changing: the article row takes the new values, its current version row the new
body, and ``reextractions`` keeps the values they replace. Full-text search follows the article row
(SQLite's triggers, PostgreSQL's generated column), as on every write.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage import articles as article_store
from storage import dedup, values
from storage.models import Article, ArticleVersion, Reextraction

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["REEXTRACTABLE_FIELDS", "apply_reextraction"]

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
}


def apply_reextraction(
    session_or_conn: Session | sa.Connection,
    article_id: int,
    new_fields: Mapping[str, Any],
    *,
    extractor_version: str,
    reason: str,
) -> bool:
    """Give article ``article_id`` the ``new_fields`` that differ from what it holds; True when any did.

    Never commits and never makes a version: the changed fields' previous values go to
    ``reextractions``. A new text also replaces the current version's body, content hash and
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
        article_store.refresh_dedup(conn, article_id, current.cluster_id, body, now=now)
    conn.execute(sa.update(Article).where(Article.id == article_id).values(**changes))
    version_changes = {name: changes[name] for name in ("text", "title", "content_hash") if name in changes}
    if version_changes:
        conn.execute(
            sa.update(ArticleVersion)
            .where(ArticleVersion.article_id == article_id, ArticleVersion.version == current.version)
            .values(**version_changes)
        )
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
