"""The write path: store extracted articles with URL aliases, versions and near-duplicate clusters.

Functions here take a ``Session`` and never commit: the caller owns the transaction
(``with session.begin(): ...`` or :func:`storage.db.run_in_transaction`). Every write is an
idempotent upsert, so re-running a failed batch is safe.
"""

from __future__ import annotations

import dataclasses
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import sqlalchemy as sa

from storage import dedup, values
from storage.db import dialect_insert
from storage.models import Article, ArticleUrl, ArticleVersion, Source

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, SessionTransaction

__all__ = [
    "OUTCOMES",
    "ArticleIn",
    "StoreResult",
    "UrlTooLong",
    "fit_for_storage",
    "mark_removed",
    "mark_republished",
    "redirects_home",
    "store_article",
    "store_articles",
]

logger = logging.getLogger(__name__)

OUTCOMES = ("stored", "updated", "unchanged", "alias", "boilerplate")

# PostgreSQL: one transaction at a time assigns clusters, so two near-duplicates stored at the same
# moment by different workers still see each other (READ COMMITTED would hide both from both).
# SQLite gets the same effect from BEGIN IMMEDIATE.
_STORE_LOCK_KEY = 0x6E657764  # "newd"

# Statements built once per dialect: constructing and coercing a statement cost more than running
# it, several times per stored article.
_statements: dict[tuple[str, str], sa.Executable] = {}


def _statement(conn: sa.Connection, name: str) -> sa.Executable:
    key = (conn.dialect.name, name)
    if key not in _statements:
        _statements[key] = _BUILDERS[name](conn)
    return _statements[key]


def _upsert_url(conn: sa.Connection) -> sa.Executable:
    stmt = dialect_insert(conn, ArticleUrl.__table__)
    return stmt.on_conflict_do_update(index_elements=["url"], set_={"article_id": stmt.excluded.article_id})


_BUILDERS = {
    "by_canonical_url": lambda conn: sa.select(
        Article.id, Article.content_hash, Article.version, Article.cluster_id, Article.url, Article.minhash
    ).where(Article.canonical_url == sa.bindparam("canonical_url")),
    "same_body_in_source": lambda conn: sa.select(Article.id, Article.version, Article.cluster_id)
    .where(Article.source_id == sa.bindparam("source_id"), Article.content_hash == sa.bindparam("content_hash"))
    .order_by(Article.id)
    .limit(1),
    "insert_article": lambda conn: dialect_insert(conn, Article.__table__)
    .on_conflict_do_nothing(index_elements=["canonical_url"])
    .returning(Article.id),
    "insert_version": lambda conn: dialect_insert(conn, ArticleVersion.__table__).on_conflict_do_nothing(
        index_elements=["article_id", "version"]
    ),
    "urls_of": lambda conn: sa.select(ArticleUrl.url).where(ArticleUrl.article_id == sa.bindparam("article_id")),
    "record_urls": lambda conn: dialect_insert(conn, ArticleUrl.__table__).on_conflict_do_nothing(
        index_elements=["url"]
    ),
    "point_url_at": _upsert_url,
}


@dataclass(frozen=True)
class ArticleIn:
    """An extracted, normalised article ready to store."""

    source: str
    url: str  # the URL fetched (a variant)
    canonical_url: str  # already canonicalised by the crawler
    title: str | None
    text: str
    authors: tuple[str, ...]
    published_at: datetime | None
    modified_at: datetime | None
    language: str | None
    description: str | None
    section: str | None
    tags: tuple[str, ...]
    image_url: str | None
    word_count: int
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    #: The body's dedup fingerprint when the caller computed it already (else computed here).
    fingerprint: dedup.Fingerprint | None = None
    #: The fetched URL canonicalised: the key when the declared canonical proves untrustworthy
    #: (see :func:`_canonical_is_shared`); None: ``url`` as it is.
    fetched_canonical_url: str | None = None
    #: The body as Markdown, from the same extraction as ``text``.
    markdown: str | None = None


@dataclass(frozen=True)
class StoreResult:
    """``boilerplate``: the body is one that several other pages of the source already showed (a
    wall, an error page served with 200); nothing was stored, ``article_id`` is the article holding
    that body and ``urls`` the URLs that led to it, to be asked again."""

    article_id: int
    outcome: str  # one of OUTCOMES
    version: int
    cluster_id: int | None
    urls: tuple[str, ...] = ()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _lock_for_dedup(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_STORE_LOCK_KEY)))


# Source ids seen in a transaction, so a batch asks once per source; tied to the transaction so a
# rollback cannot leave an id that was never committed.
_source_ids: weakref.WeakKeyDictionary[SessionTransaction, dict[str, int]] = weakref.WeakKeyDictionary()


def _source_id(session: Session, conn: sa.Connection, name: str) -> int:
    # The innermost transaction: a rolled-back savepoint takes its cached ids with it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    cache = _source_ids.setdefault(transaction, {}) if transaction is not None else {}
    if name not in cache:
        conn.execute(
            dialect_insert(conn, Source.__table__).values(name=name).on_conflict_do_nothing()
        )
        cache[name] = conn.execute(sa.select(Source.id).where(Source.name == name)).scalar_one()
    return cache[name]


def _record_urls(conn: sa.Connection, article_id: int, urls: Sequence[str], seen_at: datetime) -> None:
    rows = [{"url": url, "article_id": article_id, "first_seen_at": seen_at} for url in dict.fromkeys(urls)]
    conn.execute(_statement(conn, "record_urls"), rows)


def _point_url_at(conn: sa.Connection, url: str, article_id: int, seen_at: datetime) -> None:
    conn.execute(
        _statement(conn, "point_url_at"), {"url": url, "article_id": article_id, "first_seen_at": seen_at}
    )


def _touch(conn: sa.Connection, article_id: int, item: ArticleIn, seen_at: datetime) -> None:
    values: dict[str, object] = {
        "last_seen_at": sa.case(
            (Article.last_seen_at < seen_at, seen_at), else_=Article.last_seen_at
        ),
        # Served again: no longer removed.
        "removed_at": None,
    }
    if item.etag is not None:
        values["etag"] = item.etag
    if item.last_modified is not None:
        values["last_modified"] = item.last_modified
    conn.execute(sa.update(Article).where(Article.id == article_id).values(**values))


def _cluster(
    conn: sa.Connection,
    article_id: int,
    current_cluster_id: int | None,
    hash_: str,
    signature,
    *,
    hash_identifies: bool,
    threshold: float,
    now: datetime,
) -> int:
    keys = dedup.band_keys(signature) if signature is not None else []
    dedup.replace_keys(conn, article_id, keys, had_keys=current_cluster_id is not None)
    matches = set()
    if signature is not None:
        # Identical bodies have identical signatures, so this also finds exact copies.
        matches.update(
            dedup.find_near_duplicates(conn, article_id, signature, keys, threshold=threshold)
        )
    elif hash_identifies:
        # Identical bodies in other sources are the same story even when too short for MinHash.
        matches.update(
            conn.execute(
                sa.select(Article.id).where(Article.content_hash == hash_, Article.id != article_id)
            ).scalars()
        )
    return dedup.assign_cluster(conn, article_id, current_cluster_id, matches, now=now)


def store_article(
    session: Session,
    item: ArticleIn,
    *,
    threshold: float = dedup.DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> StoreResult:
    """Store one article; see :class:`StoreResult` outcomes. Never commits.

    ``threshold`` is the estimated Jaccard similarity (of 3-word shingles) from which another
    article counts as a near-duplicate and shares this one's cluster.

    Every value is made fit for storage first (:func:`fit_for_storage`); a canonical URL over
    :data:`storage.values.MAX_URL_BYTES` raises :class:`UrlTooLong`.
    """
    item = fit_for_storage(item)
    seen_at = _utc(item.fetched_at)
    body = item.fingerprint or dedup.fingerprint(item.text)
    hash_ = body.content_hash
    # Core statements straight on the connection: the ORM layer adds nothing here but overhead.
    conn = session.connection()
    _lock_for_dedup(conn)
    source_id = _source_id(session, conn, item.source)
    urls = [item.canonical_url, item.url]

    existing = conn.execute(
        _statement(conn, "by_canonical_url"), {"canonical_url": item.canonical_url}
    ).one_or_none()

    # A body too short to say much (a video page's caption, an empty extraction) is no evidence
    # that two pages are the same article.
    hash_identifies = body.identifies

    if existing is None and hash_identifies:
        # The same body already stored under another canonical URL of this source: an alias.
        same = conn.execute(
            _statement(conn, "same_body_in_source"), {"source_id": source_id, "content_hash": hash_}
        ).one_or_none()
        if same is not None:
            shown_by = _urls_of(conn, same.id)
            if _is_boilerplate([*shown_by, *urls]):
                logger.warning(
                    "%s: its body is the one %d other pages of %s showed (%s): boilerplate, not a story",
                    item.url, len({dedup.page_key(url) for url in shown_by}), item.source, shown_by[0],
                )  # fmt: skip
                return StoreResult(same.id, "boilerplate", same.version, same.cluster_id, tuple(shown_by))
            _record_urls(conn, same.id, urls, seen_at)
            _touch(conn, same.id, item, seen_at)
            return StoreResult(same.id, "alias", same.version, same.cluster_id)

    if existing is None:
        signature = body.signature
        # Values go in as execute() parameters, not .values(): the statement's cache key stays
        # constant, which saves SQLAlchemy most of its per-call compile work.
        inserted = conn.execute(
            _statement(conn, "insert_article"),
            {
                **_content_values(item, body),
                "source_id": source_id,
                "canonical_url": item.canonical_url,
                "version": 1,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            },
        ).scalar_one_or_none()
        if inserted is not None:
            _add_version(conn, inserted, 1, hash_, item, seen_at)
            # The canonical URL may have been an alias of an article whose body has since
            # diverged: it now names this article.
            _point_url_at(conn, item.canonical_url, inserted, seen_at)
            _record_urls(conn, inserted, urls, seen_at)
            cluster_id = _cluster(
                conn,
                inserted,
                None,
                hash_,
                signature,
                hash_identifies=hash_identifies,
                threshold=threshold,
                now=seen_at,
            )
            return StoreResult(inserted, "stored", 1, cluster_id)
        # Another transaction stored this canonical URL first: treat it as a re-fetch.
        existing = conn.execute(
            _statement(conn, "by_canonical_url"), {"canonical_url": item.canonical_url}
        ).one()

    if existing.content_hash != hash_ and _canonical_is_shared(existing, item, body, threshold):
        fetched_key = item.fetched_canonical_url or item.url
        logger.info(
            "%s: declares canonical %s, which holds a different story; stored under its own URL",
            item.url, item.canonical_url,
        )  # fmt: skip
        return store_article(session, replace(item, canonical_url=fetched_key), threshold=threshold)

    _record_urls(conn, existing.id, urls, seen_at)
    if existing.content_hash == hash_:
        _touch(conn, existing.id, item, seen_at)
        return StoreResult(existing.id, "unchanged", existing.version, existing.cluster_id)

    version = existing.version + 1
    signature = body.signature
    _add_version(conn, existing.id, version, hash_, item, seen_at)
    conn.execute(
        sa.update(Article).where(Article.id == sa.bindparam("target_id")),
        {
            **_content_values(item, body),
            "target_id": existing.id,
            "version": version,
            "last_seen_at": seen_at,
            "removed_at": None,
        },
    )
    cluster_id = _cluster(
        conn,
        existing.id,
        existing.cluster_id,
        hash_,
        signature,
        hash_identifies=hash_identifies,
        threshold=threshold,
        now=seen_at,
    )
    return StoreResult(existing.id, "updated", version, cluster_id)


def _articles_served_at(urls: Sequence[str]) -> sa.Select:
    """Ids of the articles whose own URL (canonical, or the one last fetched) is one of ``urls``.

    Another rendition or alias answering 404 says nothing about the story itself.
    """
    return (
        sa.select(ArticleUrl.article_id)
        .join(Article, Article.id == ArticleUrl.article_id)
        .where(
            ArticleUrl.url.in_(list(dict.fromkeys(urls))),
            sa.or_(Article.canonical_url == ArticleUrl.url, Article.url == ArticleUrl.url),
        )
    )


def redirects_home(asked_url: str, final_url: str) -> bool:
    """Whether asking for ``asked_url`` ended on a site's home page (a removed story's usual redirect)."""
    if asked_url == final_url:
        return False
    final, asked = urlsplit(final_url), urlsplit(asked_url)
    return final.path in ("", "/") and not final.query and asked.path not in ("", "/")


def mark_removed(session: Session, urls: Sequence[str], seen_at: datetime) -> list[int]:
    """Mark the stories at ``urls`` removed (a re-fetch answered 404, 410 or a redirect home).

    The first time seen is kept; the story and its versions stay. Returns the ids newly marked.
    """
    if not urls:
        return []
    stmt = (
        sa.update(Article)
        .where(Article.id.in_(_articles_served_at(urls)), Article.removed_at.is_(None))
        .values(removed_at=_utc(seen_at))
        .returning(Article.id)
    )
    return list(session.connection().execute(stmt).scalars())


def mark_republished(session: Session, urls: Sequence[str]) -> list[int]:
    """Clear the removal of the stories at ``urls`` (a conditional re-fetch answered 304).

    Returns the ids that were marked removed. A fetch that stores the story clears it too
    (:func:`store_article`).
    """
    if not urls:
        return []
    stmt = (
        sa.update(Article)
        .where(Article.id.in_(_articles_served_at(urls)), Article.removed_at.is_not(None))
        .values(removed_at=None)
        .returning(Article.id)
    )
    return list(session.connection().execute(stmt).scalars())


class UrlTooLong(ValueError):
    """An article whose canonical URL is too long to store (see :data:`storage.values.MAX_URL_BYTES`)."""


def fit_for_storage(item: ArticleIn) -> ArticleIn:
    """``item`` with every text cleaned and capped for its column (see :mod:`storage.values`).

    A fetched URL too long to index gives way to the canonical URL; a canonical URL too long
    raises :class:`UrlTooLong`, since no row can name the article.
    """
    if not values.fits_url(item.canonical_url):
        raise UrlTooLong(f"canonical URL of {len(item.canonical_url)} characters, over {values.MAX_URL_BYTES} bytes")
    text = values.text(item.text)
    return dataclasses.replace(
        item,
        source=values.text(item.source),
        url=values.text(item.url if values.fits_url(item.url) else item.canonical_url),
        canonical_url=values.text(item.canonical_url),
        title=values.capped(item.title, "title"),
        text=text,
        markdown=values.text(item.markdown),
        authors=tuple(a for a in (values.capped(a, "author") for a in item.authors) if a),
        language=values.capped(item.language, "language"),
        description=values.capped(item.description, "description"),
        section=values.capped(item.section, "section"),
        tags=tuple(t for t in (values.capped(t, "tag") for t in item.tags) if t),
        image_url=values.text(item.image_url) if values.fits_url(item.image_url) else None,
        etag=values.capped(item.etag, "etag"),
        last_modified=values.capped(item.last_modified, "last_modified"),
        # A fingerprint of the text as it was would not match the text stored.
        fingerprint=item.fingerprint if text == item.text else None,
    )


def _urls_of(conn: sa.Connection, article_id: int) -> list[str]:
    return sorted(conn.execute(_statement(conn, "urls_of"), {"article_id": article_id}).scalars())


def _is_boilerplate(urls: Sequence[str]) -> bool:
    """One body under this many different pages (renditions of one page count once) is no story.

    An article's AMP, print and mobile copies, or a URL that moved once, are aliases; the same body
    answering for several unrelated pages of one source is what the site shows in front of them.
    """
    return len({dedup.page_key(url) for url in urls}) >= dedup.BOILERPLATE_MIN_PAGES


def _canonical_is_shared(existing: sa.Row, item: ArticleIn, body: dedup.Fingerprint, threshold: float) -> bool:
    """The declared canonical URL already holds a clearly different story fetched from another URL.

    A CMS that gives every page the same canonical (the home page, a section) would otherwise turn
    different stories into versions of one. A new version needs the canonical URL to be fetched
    itself, or a body near the stored one; a page that only claims the canonical is stored under
    its own URL instead.
    """
    fetched_key = item.fetched_canonical_url or item.url
    if fetched_key == item.canonical_url or dedup.page_key(item.url) == dedup.page_key(existing.url):
        return False
    incoming, stored = body.signature, existing.minhash
    if incoming is None or stored is None:
        return False  # too short to tell stories apart: a version, as before
    return dedup.estimate_similarity(incoming, dedup.signature_from_bytes(stored)) < threshold


def _content_values(item: ArticleIn, body: dedup.Fingerprint) -> dict[str, object]:
    """The columns a fetch sets, on insert and on a new version alike."""
    return {
        "url": item.url,
        "title": item.title,
        "text": item.text,
        "markdown": item.markdown,
        "authors": list(item.authors),
        "published_at": item.published_at,
        "modified_at": item.modified_at,
        "language": item.language,
        "description": item.description,
        "section": item.section,
        "tags": list(item.tags),
        "image_url": item.image_url,
        "word_count": item.word_count,
        "content_hash": body.content_hash,
        "minhash": body.signature_bytes,
        "etag": item.etag,
        "last_modified": item.last_modified,
    }


def _add_version(
    conn: sa.Connection, article_id: int, version: int, hash_: str, item: ArticleIn, seen_at: datetime
) -> None:
    conn.execute(
        _statement(conn, "insert_version"),
        {
            "article_id": article_id,
            "version": version,
            "content_hash": hash_,
            "title": item.title,
            "text": item.text,
            "seen_at": seen_at,
        },
    )


def store_articles(
    session: Session,
    items: Sequence[ArticleIn],
    *,
    threshold: float = dedup.DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> list[StoreResult]:
    """Store a batch in the caller's transaction; results in input order."""
    return [
        store_article(session, item, threshold=threshold)
        for item in items
    ]
