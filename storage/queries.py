"""The read path: the documented Python API over the corpus, used by the CLI.

>>> from storage.db import open_database
>>> from storage.queries import ArticleFilter, iter_articles
>>> Session = open_database("sqlite:///newsdesk.db")
>>> with Session() as session:
...     for row in iter_articles(session, ArticleFilter(source="example", unique=True, limit=10)):
...         print(row.as_dict())
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage.db import READ_ONLY_BEGIN
from storage.models import Article, ArticleUrl, ArticleVersion, Cluster, CrawlRun, FetchLog, Source
from storage.runs import RunRow, run_row

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "SORTS",
    "ArticleDetail",
    "ArticleFilter",
    "ArticleRow",
    "SourceStats",
    "Stats",
    "VersionRow",
    "corpus_stats",
    "get_article",
    "iter_articles",
]

STREAM_BATCH = 500
#: Longer search strings are refused: SQLite rejects LIKE patterns over 50,000 bytes ("pattern too
#: complex"), and no one searches for a paragraph.
MAX_SEARCH_LENGTH = 5_000


@dataclass(frozen=True)
class ArticleFilter:
    source: str | None = None
    since: datetime | None = None  # published at or after
    until: datetime | None = None  # published before
    language: str | None = None
    search: str | None = None  # case-insensitive substring of title or text
    cluster_id: int | None = None
    url: str | None = None  # canonical URL or any known variant
    min_words: int | None = None
    unique: bool = False  # one article per cluster: its representative
    sort: str = "published"  # a key of SORTS
    limit: int | None = None


# Sort keys map to fixed column lists: user input never reaches ORDER BY.
SORTS: dict[str, tuple[Any, ...]] = {
    "published": (Article.published_at.is_(None), Article.published_at.desc(), Article.id.desc()),
    "oldest": (Article.published_at.is_(None), Article.published_at.asc(), Article.id.asc()),
    "fetched": (Article.first_seen_at.desc(), Article.id.desc()),
    "updated": (Article.last_seen_at.desc(), Article.id.desc()),
    "id": (Article.id.asc(),),
    "title": (Article.title.is_(None), Article.title.asc(), Article.id.asc()),
    "words": (Article.word_count.desc(), Article.id.asc()),
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ArticleRow:
    id: int
    source: str
    url: str
    canonical_url: str
    title: str | None
    authors: list[str]
    published_at: datetime | None
    modified_at: datetime | None
    language: str | None
    description: str | None
    section: str | None
    tags: list[str]
    image_url: str | None
    text: str
    word_count: int
    content_hash: str
    cluster_id: int | None
    version: int
    first_seen_at: datetime
    last_seen_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: datetimes as ISO 8601 strings, lists as lists."""
        data = asdict(self)
        for key in ("published_at", "modified_at", "first_seen_at", "last_seen_at"):
            data[key] = _iso(data[key])
        return data


@dataclass(frozen=True)
class VersionRow:
    version: int
    content_hash: str
    title: str | None
    seen_at: datetime
    text: str


@dataclass(frozen=True)
class ArticleDetail:
    article: ArticleRow
    urls: list[str]
    versions: list[VersionRow]
    cluster_mates: list[ArticleRow] = field(default_factory=list)
    representative_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The article's fields (as :meth:`ArticleRow.as_dict`) plus urls, versions, cluster."""
        return {
            **self.article.as_dict(),
            "urls": list(self.urls),
            "versions": [
                {
                    "version": v.version,
                    "content_hash": v.content_hash,
                    "title": v.title,
                    "seen_at": _iso(v.seen_at),
                    "text": v.text,
                }
                for v in self.versions
            ],
            "representative_id": self.representative_id,
            "cluster_mates": [
                {
                    "id": m.id,
                    "source": m.source,
                    "canonical_url": m.canonical_url,
                    "title": m.title,
                    "published_at": _iso(m.published_at),
                }
                for m in self.cluster_mates
            ],
        }


_ROW_COLUMNS = (
    Article.id,
    Source.name.label("source"),
    Article.url,
    Article.canonical_url,
    Article.title,
    Article.authors,
    Article.published_at,
    Article.modified_at,
    Article.language,
    Article.description,
    Article.section,
    Article.tags,
    Article.image_url,
    Article.text,
    Article.word_count,
    Article.content_hash,
    Article.cluster_id,
    Article.version,
    Article.first_seen_at,
    Article.last_seen_at,
)


def _row(mapping: Any) -> ArticleRow:
    data = dict(mapping)
    data["authors"] = list(data["authors"] or [])
    data["tags"] = list(data["tags"] or [])
    return ArticleRow(**data)


def _base_select() -> sa.Select:
    return sa.select(*_ROW_COLUMNS).join(Source, Source.id == Article.source_id)


def build_query(f: ArticleFilter) -> sa.Select:
    """The SELECT for a filter (exposed for tests and EXPLAIN)."""
    if f.sort not in SORTS:
        raise ValueError(f"unknown sort {f.sort!r}; expected one of {', '.join(SORTS)}")
    stmt = _base_select()
    if f.source is not None:
        stmt = stmt.where(Source.name == f.source)
    if f.since is not None:
        stmt = stmt.where(Article.published_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(Article.published_at < f.until)
    if f.language is not None:
        stmt = stmt.where(Article.language == f.language)
    if f.cluster_id is not None:
        stmt = stmt.where(Article.cluster_id == f.cluster_id)
    if f.min_words is not None:
        stmt = stmt.where(Article.word_count >= f.min_words)
    if f.url is not None:
        variant = sa.select(ArticleUrl.article_id).where(ArticleUrl.url == f.url)
        stmt = stmt.where(sa.or_(Article.canonical_url == f.url, Article.id.in_(variant)))
    if f.search and len(f.search) > MAX_SEARCH_LENGTH:
        raise ValueError(f"search text is {len(f.search):,} characters; at most {MAX_SEARCH_LENGTH:,} are allowed")
    if f.search and "\x00" in f.search:
        # SQLite ends the LIKE pattern at a NUL (so "a\0b" matched everything); PostgreSQL refuses it.
        raise ValueError("search text cannot contain NUL characters")
    if f.search:
        # Bound parameter with %, _ and the escape character escaped: a literal substring match.
        stmt = stmt.where(
            sa.or_(
                Article.title.icontains(f.search, autoescape=True),
                Article.text.icontains(f.search, autoescape=True),
            )
    )
    if f.unique:
        stmt = stmt.join(Cluster, Cluster.representative_article_id == Article.id)
    stmt = stmt.order_by(*SORTS[f.sort])
    if f.limit is not None:
        stmt = stmt.limit(f.limit)
    return stmt


def _begin_read(session: Session) -> None:
    # On SQLite, open the session's transaction as a deferred read, not BEGIN IMMEDIATE, so a
    # long export never holds the write lock that crawlers need. No effect on PostgreSQL, nor
    # when the caller has already begun a transaction.
    if not session.in_transaction():
        session.connection(execution_options=READ_ONLY_BEGIN)


def iter_articles(session: Session, f: ArticleFilter) -> Iterator[ArticleRow]:
    """Matching articles, streamed in batches so memory stays flat on any corpus size."""
    _begin_read(session)
    result = session.execute(build_query(f).execution_options(yield_per=STREAM_BATCH))
    for mapping in result.mappings():
        yield _row(mapping)


def _find_article_id(session: Session, id_or_url: str | int) -> int | None:
    if isinstance(id_or_url, int) or (isinstance(id_or_url, str) and id_or_url.isdigit()):
        article_id = int(id_or_url)
        found = session.execute(sa.select(Article.id).where(Article.id == article_id)).scalar()
        if found is not None:
            return found
        if isinstance(id_or_url, int):
            return None
    url = str(id_or_url)
    found = session.execute(sa.select(Article.id).where(Article.canonical_url == url)).scalar()
    if found is None:
        found = session.execute(
            sa.select(ArticleUrl.article_id).where(ArticleUrl.url == url)
        ).scalar()
    return found


def get_article(session: Session, id_or_url: str | int) -> ArticleDetail | None:
    """An article by id, canonical URL or any URL variant, with its URLs, versions and cluster."""
    _begin_read(session)
    article_id = _find_article_id(session, id_or_url)
    if article_id is None:
        return None
    row = _row(session.execute(_base_select().where(Article.id == article_id)).mappings().one())
    urls = list(
        session.execute(
            sa.select(ArticleUrl.url).where(ArticleUrl.article_id == article_id).order_by(ArticleUrl.url)
        ).scalars()
    )
    versions = [
        VersionRow(version=v.version, content_hash=v.content_hash, title=v.title, seen_at=v.seen_at, text=v.text)
        for v in session.execute(
            sa.select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(ArticleVersion.version)
        ).scalars()
    ]
    mates: list[ArticleRow] = []
    representative_id = None
    if row.cluster_id is not None:
        mates = [
            _row(m)
            for m in session.execute(
                _base_select()
                .where(Article.cluster_id == row.cluster_id, Article.id != article_id)
                .order_by(*SORTS["oldest"])
            ).mappings()
        ]
        representative_id = session.execute(
            sa.select(Cluster.representative_article_id).where(Cluster.id == row.cluster_id)
        ).scalar()
    return ArticleDetail(
        article=row, urls=urls, versions=versions, cluster_mates=mates, representative_id=representative_id
    )


@dataclass(frozen=True)
class SourceStats:
    source: str
    articles: int
    clusters: int
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    latest_published_at: datetime | None


@dataclass(frozen=True)
class Stats:
    articles: int
    clusters: int  # distinct stories
    multi_article_clusters: int  # stories seen more than once
    versions: int
    urls: int
    runs: int
    sources: list[SourceStats]  # one per source, by name
    last_run: RunRow | None
    fetch_outcomes: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for source in data["sources"]:
            for key in ("first_seen_at", "last_seen_at", "latest_published_at"):
                source[key] = _iso(source[key])
        if data["last_run"] is not None:
            for key in ("started_at", "finished_at"):
                data["last_run"][key] = _iso(data["last_run"][key])
        return data


def corpus_stats(session: Session) -> Stats:
    _begin_read(session)
    def count(stmt: sa.Select) -> int:
        return session.execute(stmt).scalar_one()

    sources = [
        SourceStats(
            source=r.name,
            articles=r.articles,
            clusters=r.clusters,
            first_seen_at=r.first_seen_at,
            last_seen_at=r.last_seen_at,
            latest_published_at=r.latest_published_at,
    )
        for r in session.execute(
            sa.select(
                Source.name,
                sa.func.count(Article.id).label("articles"),
                sa.func.count(sa.distinct(Article.cluster_id)).label("clusters"),
                sa.func.min(Article.first_seen_at).label("first_seen_at"),
                sa.func.max(Article.last_seen_at).label("last_seen_at"),
                sa.func.max(Article.published_at).label("latest_published_at"),
            )
            .select_from(Source)
            .outerjoin(Article, Article.source_id == Source.id)
            .group_by(Source.name)
            .order_by(Source.name)
    )
    ]
    cluster_sizes = (
        sa.select(Article.cluster_id)
        .where(Article.cluster_id.is_not(None))
        .group_by(Article.cluster_id)
        .having(sa.func.count() > 1)
        .subquery()
    )
    last_run = session.execute(
        sa.select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(1)
    ).scalar_one_or_none()
    outcomes = {
        outcome: n
        for outcome, n in session.execute(
            sa.select(FetchLog.outcome, sa.func.count()).group_by(FetchLog.outcome).order_by(FetchLog.outcome)
    )
    }
    return Stats(
        articles=count(sa.select(sa.func.count()).select_from(Article)),
        clusters=count(sa.select(sa.func.count()).select_from(Cluster)),
        multi_article_clusters=count(sa.select(sa.func.count()).select_from(cluster_sizes)),
        versions=count(sa.select(sa.func.count()).select_from(ArticleVersion)),
        urls=count(sa.select(sa.func.count()).select_from(ArticleUrl)),
        runs=count(sa.select(sa.func.count()).select_from(CrawlRun)),
        sources=sources,
        last_run=run_row(last_run) if last_run is not None else None,
        fetch_outcomes=outcomes,
    )
