"""The write path: store extracted articles with URL aliases, versions and near-duplicate clusters.

Every URL of a story is recorded with its rendition (canonical, AMP, print, ...: see
:mod:`storage.renditions`). The story's body is its canonical rendition's, else the fullest one's;
a new version is made only when the rendition the body came from changes its own text between
fetches, never because another rendition reads differently.

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

from storage import dedup, values, write_locks
from storage.clustering import ClusterBatch
from storage.db import dialect_insert
from storage.models import Article, ArticleUrl, ArticleVersion, Source
from storage.renditions import Rendition, outranks

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
    return stmt.on_conflict_do_update(
        index_elements=["url"],
        set_={"article_id": stmt.excluded.article_id, "rendition": stmt.excluded.rendition},
    )


def _record_fetched_url(conn: sa.Connection) -> sa.Executable:
    """The URL just fetched: its rendition and body are the latest, if it is still this story's."""
    stmt = dialect_insert(conn, ArticleUrl.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["url"],
        set_={"rendition": stmt.excluded.rendition, "content_hash": stmt.excluded.content_hash},
        where=ArticleUrl.__table__.c.article_id == stmt.excluded.article_id,
    )


_COPIES = frozenset(Rendition) - {Rendition.CANONICAL, Rendition.OTHER}


def _stored_story() -> sa.Select:
    """What a re-fetch of a story compares itself with."""
    return sa.select(
        Article.id,
        Article.content_hash,
        Article.version,
        Article.cluster_id,
        Article.url,
        Article.minhash,
        Article.word_count,
        # When the stored text was first seen.
        sa.select(ArticleVersion.seen_at)
        .where(ArticleVersion.article_id == Article.id, ArticleVersion.version == Article.version)
        .scalar_subquery()
        .label("version_seen_at"),
        # The rendition the stored body was read from.
        ArticleUrl.rendition.label("body_rendition"),
    ).outerjoin(ArticleUrl, ArticleUrl.url == Article.url)


_BUILDERS = {
    "by_canonical_url": lambda conn: _stored_story().where(Article.canonical_url == sa.bindparam("canonical_url")),
    "story_declaring": lambda conn: sa.select(Article.canonical_url)
    .join(ArticleUrl, ArticleUrl.article_id == Article.id)
    .where(ArticleUrl.url == sa.bindparam("url"), ArticleUrl.rendition.in_(sorted(_COPIES))),
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
    "record_fetched_url": _record_fetched_url,
    "point_url_at": _upsert_url,
    "replace_current_version": lambda conn: sa.update(ArticleVersion)
    .where(ArticleVersion.article_id == sa.bindparam("target_id"), ArticleVersion.version == sa.bindparam("target_version"))
    .values(
        content_hash=sa.bindparam("new_hash"), title=sa.bindparam("new_title"), text=sa.bindparam("new_text")
    ),
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
    #: What ``url`` is to the story (a :class:`~storage.renditions.Rendition`); None: canonical
    #: when it is the canonical URL, else other.
    rendition: str | None = None
    #: Other renditions the page names (its rel=amphtml, a mobile alternate): (url, kind) pairs,
    #: recorded as the story's URLs before they are fetched.
    declared_renditions: tuple[tuple[str, str], ...] = ()
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


def _lock_keys(item: ArticleIn, body: dedup.Fingerprint) -> list[int]:
    """What storing ``item`` reads and writes: its canonical URL (and the fetched one it may fall
    back to) and its body's hash. See :mod:`storage.write_locks`; its LSH band keys are locked
    later, for the batch's clustering only (:mod:`storage.clustering`)."""
    return [
        write_locks.text_key("url", item.canonical_url),
        write_locks.text_key("url", item.fetched_canonical_url or item.url),
        write_locks.text_key("hash", body.content_hash),
    ]


def lock_for(session: Session, items: Sequence[ArticleIn]) -> BatchLookups:
    """Lock what a batch of articles will touch, in one sorted pass, before storing any of them:
    a writer that locked article by article could hold a key another writer waits for while it
    waits for one of that writer's (a deadlock). :func:`store_article` then finds them held, and
    the batch's :class:`ClusterBatch` locks the band keys, after these, when it is assigned.
    Returns what the batch reads first, read ahead for all of it (:func:`look_up`)."""
    prepared = [_prepared(item) for item in items]
    write_locks.lock_keys(session.connection(), [key for item, body in prepared for key in _lock_keys(item, body)])
    return look_up(session, [item for item, _body in prepared])


def _prepared(item: ArticleIn) -> tuple[ArticleIn, dedup.Fingerprint]:
    item = fit_for_storage(item)
    body = item.fingerprint or dedup.fingerprint(item.text)
    return replace(item, fingerprint=body), body


# Source ids seen in a transaction, so a batch asks once per source; tied to the transaction so a
# rollback cannot leave an id that was never committed.
_source_ids: weakref.WeakKeyDictionary[SessionTransaction, dict[str, int]] = weakref.WeakKeyDictionary()


def _source_id(session: Session, conn: sa.Connection, name: str) -> int:
    # The innermost transaction: a rolled-back savepoint takes its cached ids with it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    cache = _source_ids.setdefault(transaction, {}) if transaction is not None else {}
    if name not in cache:
        known = conn.execute(sa.select(Source.id).where(Source.name == name)).scalar()
        if known is None:
            _create_source(conn, name)
            known = conn.execute(sa.select(Source.id).where(Source.name == name)).scalar_one()
        cache[name] = known
    return cache[name]


def _create_source(conn: sa.Connection, name: str) -> None:
    """A new source's row. On PostgreSQL it is committed at once, on a connection of its own: made
    in the batch's transaction, it would keep every other writer storing that source's first pages
    waiting on it until the whole batch commits. (SQLite has one writer: the batch's transaction.)"""
    insert = dialect_insert(conn, Source.__table__).values(name=name).on_conflict_do_nothing()
    if conn.dialect.name != "postgresql":
        conn.execute(insert)
        return
    with conn.engine.begin() as own:
        own.execute(insert)


def _rendition(item: ArticleIn) -> Rendition:
    if item.rendition is not None:
        return Rendition(item.rendition)
    fetched_key = item.fetched_canonical_url or item.url
    return Rendition.CANONICAL if item.canonical_url in (item.url, fetched_key) else Rendition.OTHER


def _record_urls(
    conn: sa.Connection,
    article_id: int,
    item: ArticleIn,
    kind: Rendition,
    hash_: str,
    seen_at: datetime,
    *,
    canonical_kind: Rendition = Rendition.CANONICAL,
) -> None:
    """The story's URLs: the one fetched (with its rendition and body), its canonical URL and the
    renditions it declares (recorded once: a URL keeps the story it first led to)."""
    named = {**dict(item.declared_renditions), item.canonical_url: canonical_kind}
    named.pop(item.url, None)
    if named:
        conn.execute(
            _statement(conn, "record_urls"),
            [
                {"url": url, "article_id": article_id, "first_seen_at": seen_at, "rendition": named_kind,
                 "content_hash": None}
                for url, named_kind in named.items()
            ],
        )  # fmt: skip
    conn.execute(
        _statement(conn, "record_fetched_url"),
        {"url": item.url, "article_id": article_id, "first_seen_at": seen_at, "rendition": kind, "content_hash": hash_},
    )


def _point_url_at(conn: sa.Connection, url: str, article_id: int, seen_at: datetime) -> None:
    conn.execute(
        _statement(conn, "point_url_at"),
        {"url": url, "article_id": article_id, "first_seen_at": seen_at, "rendition": Rendition.CANONICAL,
         "content_hash": None},
    )  # fmt: skip


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


@dataclass
class BatchLookups:
    """What a batch's articles are stored under, read ahead for the whole batch in two queries
    (the stored story of each canonical URL, and of each body in its source) instead of two an
    article. A key an earlier article of the batch may have changed is asked again; a key not
    read ahead (a body a site profile changed since) is asked as it comes."""

    canonical: dict[str, sa.Row | None] = dataclasses.field(default_factory=dict)
    bodies: dict[tuple[int, str], sa.Row | None] = dataclasses.field(default_factory=dict)

    def by_canonical_url(self, conn: sa.Connection, url: str) -> sa.Row | None:
        if url in self.canonical:
            return self.canonical[url]
        return conn.execute(_statement(conn, "by_canonical_url"), {"canonical_url": url}).one_or_none()

    def same_body(self, conn: sa.Connection, source_id: int, content_hash: str) -> sa.Row | None:
        if (source_id, content_hash) in self.bodies:
            return self.bodies[source_id, content_hash]
        return conn.execute(
            _statement(conn, "same_body_in_source"), {"source_id": source_id, "content_hash": content_hash}
        ).one_or_none()

    def touch(self, item: ArticleIn, content_hash: str, existing: sa.Row | None) -> None:
        """Storing ``item`` may change what is stored under these: read them again from now on."""
        urls = {item.canonical_url, item.url, item.fetched_canonical_url, *dict(item.declared_renditions)}
        # Keyed by canonical URL, and read through the story's own URL (its body's rendition).
        for key in [key for key, row in self.canonical.items() if key in urls or (row is not None and row.url in urls)]:
            del self.canonical[key]
        hashes = {content_hash} | ({existing.content_hash} if existing is not None else set())
        for key in [key for key in self.bodies if key[1] in hashes]:
            del self.bodies[key]


def look_up(session: Session, items: Sequence[ArticleIn]) -> BatchLookups:
    """Reads ahead what storing ``items`` (fit for storage, keys locked) asks first."""
    conn = session.connection()
    urls = sorted({item.canonical_url for item in items})
    lookups = BatchLookups(canonical=dict.fromkeys(urls))
    if not urls:
        return lookups
    for row in conn.execute(_stored_story().add_columns(Article.canonical_url).where(Article.canonical_url.in_(urls))):
        lookups.canonical[row.canonical_url] = row
    sources = {item.source: _source_id(session, conn, item.source) for item in items}
    bodies = [(item.source, item.fingerprint or dedup.fingerprint(item.text)) for item in items]
    wanted = {(sources[source], body.content_hash) for source, body in bodies if body.identifies}
    if not wanted:
        return lookups
    lookups.bodies = dict.fromkeys(wanted)
    rows = conn.execute(
        sa.select(Article.id, Article.version, Article.cluster_id, Article.source_id, Article.content_hash)
        .where(Article.content_hash.in_(sorted({content_hash for _, content_hash in wanted})))
        .where(Article.source_id.in_(sorted(set(sources.values()))))
        .order_by(Article.id)
    )
    for row in rows:
        key = (row.source_id, row.content_hash)
        if key in lookups.bodies and lookups.bodies[key] is None:
            lookups.bodies[key] = row
    return lookups


def store_article(
    session: Session,
    item: ArticleIn,
    *,
    threshold: float = dedup.DEFAULT_NEAR_DUPLICATE_THRESHOLD,
    clusters: ClusterBatch | None = None,
    lookups: BatchLookups | None = None,
) -> StoreResult:
    """Store one article; see :class:`StoreResult` outcomes. Never commits.

    ``threshold`` is the estimated Jaccard similarity (of 3-word shingles) from which another
    article counts as a near-duplicate and shares this one's cluster.

    With ``clusters``, the article's cluster is left to that batch's :meth:`ClusterBatch.assign`
    (the result's ``cluster_id`` is then the one it had); without, it is assigned here. With
    ``lookups`` (:func:`look_up`), what the batch read ahead is used instead of asking again.

    Every value is made fit for storage first (:func:`fit_for_storage`); a canonical URL over
    :data:`storage.values.MAX_URL_BYTES` raises :class:`UrlTooLong`.
    """
    item, body = _prepared(item)
    conn = session.connection()
    write_locks.lock_keys(conn, _lock_keys(item, body))
    lookups = lookups if lookups is not None else BatchLookups()
    if clusters is not None:
        return _store(session, conn, item, body, clusters, lookups)
    own = ClusterBatch(threshold)
    result = _store(session, conn, item, body, own, lookups)
    return _with_clusters([result], own.assign(conn))[0]


def _with_clusters(results: list[StoreResult], assigned: dict[int, int]) -> list[StoreResult]:
    return [replace(r, cluster_id=assigned[r.article_id]) if r.article_id in assigned else r for r in results]


def _store(
    session: Session,
    conn: sa.Connection,
    item: ArticleIn,
    body: dedup.Fingerprint,
    clusters: ClusterBatch,
    lookups: BatchLookups,
) -> StoreResult:
    """:func:`store_article` once ``item`` is fit for storage and its keys are locked."""
    threshold = clusters.threshold
    seen_at = _utc(item.fetched_at)
    hash_ = body.content_hash
    source_id = _source_id(session, conn, item.source)
    kind = _rendition(item)

    existing = lookups.by_canonical_url(conn, item.canonical_url)

    if existing is None and kind in _COPIES and item.canonical_url == (item.fetched_canonical_url or item.url):
        # A copy that names no canonical URL, at a URL a stored story declared as its rendition.
        declaring = conn.execute(_statement(conn, "story_declaring"), {"url": item.url}).scalar()
        if declaring is not None:
            item = replace(item, canonical_url=declaring)
            existing = conn.execute(_statement(conn, "by_canonical_url"), {"canonical_url": declaring}).one()

    # A body too short to say much (a video page's caption, an empty extraction) is no evidence
    # that two pages are the same article.
    hash_identifies = body.identifies

    same = None
    if existing is None and hash_identifies:
        same = lookups.same_body(conn, source_id, hash_)
    # What is read here may change below: later articles of the batch read it again.
    lookups.touch(item, hash_, existing)

    if same is not None:
        # The same body already stored under another canonical URL of this source: an alias.
        shown_by = _urls_of(conn, same.id)
        if _is_boilerplate([*shown_by, item.canonical_url, item.url]):
            logger.warning(
                "%s: its body is the one %d other pages of %s showed (%s): boilerplate, not a story",
                item.url, len({dedup.page_key(url) for url in shown_by}), item.source, shown_by[0],
            )  # fmt: skip
            return StoreResult(same.id, "boilerplate", same.version, same.cluster_id, tuple(shown_by))
        # Another story's URL, not this one's canonical.
        alias_kind = Rendition.OTHER if kind == Rendition.CANONICAL else kind
        _record_urls(conn, same.id, item, alias_kind, hash_, seen_at, canonical_kind=Rendition.OTHER)
        _touch(conn, same.id, item, seen_at)
        return StoreResult(same.id, "alias", same.version, same.cluster_id)

    if existing is None:
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
            _record_urls(conn, inserted, item, kind, hash_, seen_at)
            clusters.add(inserted, body, seen_at)
            return StoreResult(inserted, "stored", 1, None)
        # Another transaction stored this canonical URL first: treat it as a re-fetch.
        existing = conn.execute(
            _statement(conn, "by_canonical_url"), {"canonical_url": item.canonical_url}
        ).one()

    if (
        existing.content_hash != hash_
        and kind not in _COPIES
        and _canonical_is_shared(existing, item, body, threshold)
    ):
        fetched_key = item.fetched_canonical_url or item.url
        logger.info(
            "%s: declares canonical %s, which holds a different story; stored under its own URL",
            item.url, item.canonical_url,
        )  # fmt: skip
        own = replace(item, canonical_url=fetched_key, rendition=None if kind == Rendition.OTHER else kind)
        return store_article(session, own, threshold=threshold, clusters=clusters, lookups=lookups)

    _record_urls(conn, existing.id, item, kind, hash_, seen_at)
    if existing.content_hash == hash_:
        _touch(conn, existing.id, item, seen_at)
        return StoreResult(existing.id, "unchanged", existing.version, existing.cluster_id)

    # The body's own rendition read again, and changed: the publisher edited the story.
    edited = item.url == existing.url or kind == existing.body_rendition == Rendition.CANONICAL
    if edited and existing.version_seen_at is not None and seen_at < existing.version_seen_at:
        # A capture older than the stored text (last month's WARC file imported after this month's
        # crawl; a page's two captures out of order): not the publisher's latest edit. Applied, it
        # made a version of the old text, and the newer capture one of the new text again: each
        # import of the same file added two versions. (Not the article's last sighting: a crawl
        # writes a story's renditions in the order they were read, not fetched.)
        return StoreResult(existing.id, "unchanged", existing.version, existing.cluster_id)
    if not edited and not outranks(kind, item.word_count, existing.body_rendition, existing.word_count):
        # Another rendition, which reads differently: the story has not changed.
        _touch(conn, existing.id, item, seen_at)
        return StoreResult(existing.id, "unchanged", existing.version, existing.cluster_id)

    version = existing.version + 1 if edited else existing.version
    if edited:
        _add_version(conn, existing.id, version, hash_, item, seen_at)
    else:
        # A better rendition of the same text (the canonical page after its AMP copy): the body
        # is replaced where it stands, as the current version's, not as a new one.
        conn.execute(
            _statement(conn, "replace_current_version"),
            {"target_id": existing.id, "target_version": version, "new_hash": hash_, "new_title": item.title,
             "new_text": item.text},
        )  # fmt: skip
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
    clusters.add(existing.id, body, seen_at)
    return StoreResult(existing.id, "updated" if edited else "unchanged", version, existing.cluster_id)


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
        # A declared rendition is only a hint: one too long to index is left out.
        declared_renditions=tuple(
            (values.text(url), kind) for url, kind in item.declared_renditions if values.fits_url(url)
        ),
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
    """Store a batch in the caller's transaction; results in input order.

    The keys of the whole batch are locked first, in one sorted pass: locking article by article
    would let two batches each hold a key the other waits for.
    """
    prepared = [_prepared(item) for item in items]
    # Core statements straight on the connection: the ORM layer adds nothing here but overhead.
    conn = session.connection()
    write_locks.lock_keys(conn, [key for item, body in prepared for key in _lock_keys(item, body)])
    clusters = ClusterBatch(threshold)
    lookups = look_up(session, [item for item, _body in prepared])
    results = [_store(session, conn, item, body, clusters, lookups) for item, body in prepared]
    return _with_clusters(results, clusters.assign(conn))


def refresh_dedup(
    conn: sa.Connection,
    article_id: int,
    body: dedup.Fingerprint,
    *,
    now: datetime,
    threshold: float = dedup.DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> int:
    """An article's near-duplicate keys and cluster for a body it now has without a new version
    (a re-extraction); returns its cluster id."""
    clusters = ClusterBatch(threshold)
    clusters.add(article_id, body, _utc(now))
    return clusters.assign(conn)[article_id]
