"""The read path: the documented Python API over the corpus, used by the CLI.

>>> from storage.db import open_database
>>> from storage.queries import ArticleFilter, iter_articles
>>> Session = open_database("sqlite:///newsdesk.db")
>>> with Session() as session:
...     for row in iter_articles(session, ArticleFilter(source="example", unique=True, limit=10)):
...         print(row.as_dict())
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage.db import READ_ONLY_BEGIN, dialect_name
from storage.models import (
    Article,
    ArticleUrl,
    ArticleVersion,
    Cluster,
    CrawlRun,
    FetchLog,
    Source,
)
from storage.runs import RunRow, run_row
from storage.signals import signal_conditions
from storage.values import MAX_INTEGER

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "SORTS",
    "ArticleDetail",
    "ArticleFilter",
    "RenditionRow",
    "ArticleRow",
    "ClusterMember",
    "ClusterSummary",
    "SearchTerm",
    "SourceStats",
    "Stats",
    "VersionRow",
    "corpus_stats",
    "count_articles",
    "get_article",
    "get_cluster",
    "iter_articles",
    "list_clusters",
    "parse_search",
    "version_diff",
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
    search: str | None = None  # full text: words, "a phrase", prefix* (see parse_search)
    contains: str | None = None  # literal, case-insensitive substring of title or text
    cluster_id: int | None = None
    url: str | None = None  # canonical URL or any known variant
    min_words: int | None = None
    unique: bool = False  # one article per cluster: its representative
    sort: str | None = None  # a key of SORTS; None: "relevance" with a search, else "published"
    limit: int | None = None
    include_removed: bool = False  # stories a re-fetch found gone (404, 410, redirect home) too
    # Publishers' signals (storage.signals): articles never read for them pass none of these.
    tdm_allowed: bool = False  # no TDMRep reservation applies
    free_only: bool = False  # not marked paywalled, body not cut at a paywall
    exclude_noarchive: bool = False  # no noarchive directive


# Sort keys map to fixed column lists: user input never reaches ORDER BY.
SORTS: dict[str, tuple[Any, ...]] = {
    "published": (Article.published_at.is_(None), Article.published_at.desc(), Article.id.desc()),
    "oldest": (Article.published_at.is_(None), Article.published_at.asc(), Article.id.asc()),
    "seen": (Article.first_seen_at.desc(), Article.id.desc()),
    "fetched": (Article.first_seen_at.desc(), Article.id.desc()),
    "updated": (Article.last_seen_at.desc(), Article.id.desc()),
    "id": (Article.id.asc(),),
    "title": (Article.title.is_(None), Article.title.asc(), Article.id.asc()),
    "words": (Article.word_count.desc(), Article.id.asc()),
    "relevance": (),  # best full-text match first; needs a search (see build_query)
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
    #: The body as Markdown (sub-headings, lists, quotes, tables); None for stories stored before it.
    markdown: str | None
    word_count: int
    content_hash: str
    cluster_id: int | None
    version: int
    first_seen_at: datetime
    last_seen_at: datetime
    #: When a re-fetch found the story gone; None while published.
    removed_at: datetime | None
    #: With ``snippets=True`` and a search: a passage around the matches, each match «marked».
    snippet: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: datetimes as ISO 8601 strings, lists as lists (no snippet key when None)."""
        # Shallow on purpose: dataclasses.asdict deep-copies every value and halves export speed.
        data = {name: getattr(self, name) for name in _ARTICLE_ROW_FIELDS}
        data["authors"], data["tags"] = list(self.authors), list(self.tags)
        for key in ("published_at", "modified_at", "first_seen_at", "last_seen_at", "removed_at"):
            data[key] = _iso(data[key])
        if data["snippet"] is None:
            del data["snippet"]
        return data


_ARTICLE_ROW_FIELDS = tuple(f.name for f in fields(ArticleRow))


@dataclass(frozen=True)
class VersionRow:
    version: int
    content_hash: str
    title: str | None
    seen_at: datetime
    text: str


@dataclass(frozen=True)
class RenditionRow:
    """One URL of a story and what it is: canonical, amp, print, paginated, mobile, lite, ..."""

    url: str
    kind: str


@dataclass(frozen=True)
class ArticleDetail:
    article: ArticleRow
    urls: list[str]
    versions: list[VersionRow]
    cluster_mates: list[ArticleRow] = field(default_factory=list)
    representative_id: int | None = None
    #: Every URL with its rendition kind, the canonical first.
    renditions: list[RenditionRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The article's fields (as :meth:`ArticleRow.as_dict`) plus urls, versions, cluster."""
        return {
            **self.article.as_dict(),
            "urls": list(self.urls),
            "renditions": [{"url": r.url, "kind": r.kind} for r in self.renditions],
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
    Article.markdown,
    Article.word_count,
    Article.content_hash,
    Article.cluster_id,
    Article.version,
    Article.first_seen_at,
    Article.last_seen_at,
    Article.removed_at,
)


def _row(mapping: Any) -> ArticleRow:
    data = dict(mapping)
    data["authors"] = list(data["authors"] or [])
    data["tags"] = list(data["tags"] or [])
    return ArticleRow(**data)


def _base_select() -> sa.Select:
    return sa.select(*_ROW_COLUMNS).join(Source, Source.id == Article.source_id)


# --- full-text search ---------------------------------------------------------------------------

#: Bounds on what one search may ask for; past them the query is refused with a clear message.
MAX_SEARCH_TERMS = 32
SNIPPET_OPEN, SNIPPET_CLOSE = "«", "»"

# The search objects of migration 0004 (not ORM-mapped: see storage.models.include_object).
_FTS = sa.table("articles_fts", sa.column("rowid"), sa.column("articles_fts"))
_SEARCH_VECTOR = sa.literal_column("articles.search_vector", postgresql.TSVECTOR)
_SIMPLE = sa.literal_column("'simple'::regconfig")


@dataclass(frozen=True)
class SearchTerm:
    """One parsed search term: its words (in order) and whether the last one is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False
    #: The token as typed, when punctuation joins its words ("3.75", "node.js"): PostgreSQL's
    #: parser keeps such a token whole in its index, where FTS5 splits it into the phrase.
    joined: str | None = None


def _is_word_char(char: str) -> bool:
    # Letters, digits and combining marks; "_" and punctuation separate words as the FTS5
    # unicode61 tokenizer and PostgreSQL's parser do.
    return char != "_" and unicodedata.category(char)[0] in "LNM"


def _words(text: str) -> tuple[str, ...]:
    words, current = [], []
    for char in text:
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return tuple(word.casefold() for word in words)


def parse_search(text: str) -> list[SearchTerm]:
    """Split a search into terms: ``word``, ``"a phrase"``, ``prefix*``; every term must match.

    Punctuation inside a term separates words (``e-mail`` is the phrase ``"e mail"``), an
    unclosed quote runs to the end. Raises ``ValueError`` for text that cannot be a search.
    """
    if len(text) > MAX_SEARCH_LENGTH:
        raise ValueError(f"search text is {len(text):,} characters; at most {MAX_SEARCH_LENGTH:,} are allowed")
    if "\x00" in text:
        raise ValueError("search text cannot contain NUL characters")
    terms: list[SearchTerm] = []
    for index, chunk in enumerate(text.split('"')):
        if index % 2:  # inside quotes: one phrase
            words = _words(chunk)
            if words:
                terms.append(SearchTerm(words))
            continue
        for token in chunk.split():
            words = _words(token)
            if words:
                joined = token.strip("*") if len(words) > 1 else None
                terms.append(SearchTerm(words, prefix=token.rstrip().endswith("*"), joined=joined))
    if not terms:
        raise ValueError(f"nothing to search for in {text[:40]!r}: give at least one word or number")
    if len(terms) > MAX_SEARCH_TERMS:
        raise ValueError(f"search has {len(terms)} terms; at most {MAX_SEARCH_TERMS} are allowed")
    return terms


def _fts5_match(terms: list[SearchTerm]) -> str:
    # Every term is a quoted FTS5 string (words hold no quotes), so no user text is FTS syntax.
    return " ".join(f'"{" ".join(t.words)}"' + ("*" if t.prefix else "") for t in terms)


def _pg_tsquery(terms: list[SearchTerm]) -> sa.ColumnElement:
    queries = []
    for term in terms:
        if term.prefix:
            # to_tsquery syntax built from letters and digits only, each lexeme quoted: 'a' <-> 'b':*
            lexemes = [f"'{word}'" for word in term.words]
            queries.append(sa.func.to_tsquery(_SIMPLE, sa.bindparam(None, " <-> ".join(lexemes) + ":*")))
        else:
            # websearch_to_tsquery never raises; a quoted phrase keeps the words in order.
            query = sa.func.websearch_to_tsquery(_SIMPLE, sa.bindparam(None, f'"{" ".join(term.words)}"'))
            if term.joined:
                # Or the token whole, as the index may hold it ("3.75"); plainto_tsquery never raises.
                query = query.op("||")(sa.func.plainto_tsquery(_SIMPLE, sa.bindparam(None, term.joined)))
            queries.append(query)
    combined = queries[0]
    for query in queries[1:]:
        combined = combined.op("&&")(query)
    return combined


def _apply_search(stmt: sa.Select, f: ArticleFilter, dialect: str, *, snippets: bool) -> tuple[sa.Select, Any]:
    """The search condition, and a rank expression (lower sorts first)."""
    terms = parse_search(f.search or "")
    if dialect == "postgresql":
        query = _pg_tsquery(terms)
        stmt = stmt.where(_SEARCH_VECTOR.op("@@")(query))
        rank = -sa.func.ts_rank(_SEARCH_VECTOR, query, 1)  # 1: divided by 1 + log(length)
        if snippets:
            headline = sa.func.ts_headline(
                _SIMPLE,
                sa.func.left(Article.text, 200_000),
                query,
                f"StartSel={SNIPPET_OPEN}, StopSel={SNIPPET_CLOSE}, MaxWords=16, MinWords=8, MaxFragments=2",
            )
            stmt = stmt.add_columns(headline.label("snippet"))
        return stmt, rank
    stmt = stmt.join(_FTS, _FTS.c.rowid == Article.id).where(
        _FTS.c.articles_fts.op("MATCH")(sa.bindparam(None, _fts5_match(terms)))
    )
    # bm25 with a title match worth ten body matches; smaller is better.
    rank = sa.func.bm25(sa.literal_column("articles_fts"), 10.0, 1.0)
    if snippets:
        snippet = sa.func.snippet(sa.literal_column("articles_fts"), 1, SNIPPET_OPEN, SNIPPET_CLOSE, " … ", 16)
        stmt = stmt.add_columns(snippet.label("snippet"))
    return stmt, rank


# --- listing --------------------------------------------------------------------------------------


def _check_text(name: str, value: str | None) -> None:
    # PostgreSQL refuses NUL in any text parameter, and SQLite cuts strings at it: no filter
    # value may hold one, and none need be longer than a search.
    if value is None:
        return
    if "\x00" in value:
        raise ValueError(f"{name} cannot contain NUL characters")
    if len(value) > MAX_FILTER_LENGTH:
        raise ValueError(f"{name} is {len(value):,} characters; at most {MAX_FILTER_LENGTH:,} are allowed")


MAX_FILTER_LENGTH = 100_000


def _sort_key(f: ArticleFilter) -> str:
    sort = f.sort or ("relevance" if f.search else "published")
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")
    if sort == "relevance" and not f.search:
        raise ValueError("sorting by relevance needs a search")
    return sort


def build_query(f: ArticleFilter, dialect: str = "sqlite", *, snippets: bool = False) -> sa.Select:
    """The SELECT for a filter on ``dialect`` (exposed for tests and EXPLAIN).

    Every value is a bound parameter; ORDER BY comes from the fixed SORTS mapping.
    """
    sort = _sort_key(f)
    for name in ("source", "language", "url"):  # search and contains have their own, tighter checks
        _check_text(name, getattr(f, name))
    stmt = _base_select()
    if not f.include_removed:
        stmt = stmt.where(Article.removed_at.is_(None))
    if f.source is not None:
        stmt = stmt.where(Source.name == f.source)
    if f.since is not None:
        stmt = stmt.where(Article.published_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(Article.published_at < f.until)
    if f.language is not None:
        stmt = stmt.where(Article.language == f.language)
    if f.cluster_id is not None:
        stmt = stmt.where(Article.cluster_id == f.cluster_id if f.cluster_id <= MAX_INTEGER else sa.false())
    if f.min_words is not None:
        stmt = stmt.where(Article.word_count >= min(f.min_words, MAX_INTEGER))
    stmt = stmt.where(
        *signal_conditions(tdm_allowed=f.tdm_allowed, free_only=f.free_only, exclude_noarchive=f.exclude_noarchive)
    )
    if f.url is not None:
        variant = sa.select(ArticleUrl.article_id).where(ArticleUrl.url == f.url)
        stmt = stmt.where(sa.or_(Article.canonical_url == f.url, Article.id.in_(variant)))
    if f.contains:
        if len(f.contains) > MAX_SEARCH_LENGTH:
            raise ValueError(
                f"search text is {len(f.contains):,} characters; at most {MAX_SEARCH_LENGTH:,} are allowed"
            )
        if "\x00" in f.contains:
            # SQLite ends the LIKE pattern at a NUL (so "a\0b" matched everything); PostgreSQL refuses it.
            raise ValueError("search text cannot contain NUL characters")
        # Bound parameter with %, _ and the escape character escaped: a literal substring match.
        stmt = stmt.where(
            sa.or_(
                Article.title.icontains(f.contains, autoescape=True),
                Article.text.icontains(f.contains, autoescape=True),
            )
        )
    rank = None
    if f.search is not None:
        stmt, rank = _apply_search(stmt, f, dialect, snippets=snippets)
    if f.unique:
        stmt = stmt.join(Cluster, Cluster.representative_article_id == Article.id)
    order = (rank, Article.id.asc()) if sort == "relevance" else SORTS[sort]
    stmt = stmt.order_by(*order)
    if f.limit is not None:
        stmt = stmt.limit(f.limit)
    return stmt


def _begin_read(session: Session) -> None:
    # On SQLite, open the session's transaction as a deferred read, not BEGIN IMMEDIATE, so a
    # long export never holds the write lock that crawlers need. No effect on PostgreSQL, nor
    # when the caller has already begun a transaction.
    if not session.in_transaction():
        session.connection(execution_options=READ_ONLY_BEGIN)


def _execute_read(session: Session, stmt: sa.Executable, **options: Any) -> sa.Result:
    try:
        return session.execute(stmt.execution_options(**options) if options else stmt)
    except sa.exc.OperationalError as exc:
        # FTS5 reports malformed MATCH strings here; parse_search makes that unlikely, but a
        # user must see one line, not a traceback.
        if "fts5" in str(exc.orig).lower():
            raise ValueError(f"search not understood: {str(exc.orig).splitlines()[0]}") from None
        raise


def iter_articles(session: Session, f: ArticleFilter, *, snippets: bool = False) -> Iterator[ArticleRow]:
    """Matching articles, streamed in batches so memory stays flat on any corpus size.

    With a search and ``snippets=True`` each row carries a ``snippet`` of the body around the
    matches. Raises ``ValueError`` for a filter that cannot be run (bad sort, unusable search).
    """
    stmt = build_query(f, dialect_name(session), snippets=snippets and f.search is not None)
    _begin_read(session)
    result = _execute_read(session, stmt, yield_per=STREAM_BATCH)
    for mapping in result.mappings():
        yield _row(mapping)


def count_articles(session: Session, f: ArticleFilter) -> int:
    """How many articles ``iter_articles`` would yield for ``f`` (its limit included)."""
    stmt = build_query(f, dialect_name(session)).order_by(None).subquery()
    _begin_read(session)
    return _execute_read(session, sa.select(sa.func.count()).select_from(stmt)).scalar_one()


def _find_article_id(session: Session, id_or_url: str | int) -> int | None:
    if isinstance(id_or_url, int) or (isinstance(id_or_url, str) and id_or_url.isascii() and id_or_url.isdigit()):
        article_id = int(id_or_url)
        if article_id > MAX_INTEGER:  # no row has it, and PostgreSQL would refuse the value
            return None
        found = session.execute(sa.select(Article.id).where(Article.id == article_id)).scalar()
        if found is not None:
            return found
        if isinstance(id_or_url, int):
            return None
    url = str(id_or_url)
    if "\x00" in url or len(url) > MAX_FILTER_LENGTH:
        return None  # no stored URL holds a NUL or is that long; PostgreSQL would refuse the query
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
    renditions = [
        RenditionRow(url, kind)
        for url, kind in session.execute(
            sa.select(ArticleUrl.url, ArticleUrl.rendition)
            .where(ArticleUrl.article_id == article_id)
            .order_by(ArticleUrl.rendition != "canonical", ArticleUrl.rendition, ArticleUrl.url)
        )
    ]
    urls = sorted(r.url for r in renditions)
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
        article=row,
        urls=urls,
        versions=versions,
        cluster_mates=mates,
        representative_id=representative_id,
        renditions=renditions,
    )


@dataclass(frozen=True)
class SourceStats:
    source: str
    articles: int
    clusters: int
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    latest_published_at: datetime | None
    last_run_at: datetime | None = None  # start of the source's latest crawl run
    last_run_status: str | None = None
    fetches: int = 0  # fetch_log rows over all of the source's runs
    error_rate: float | None = None  # share of fetches with outcome "error"; None without fetches
    not_article_rate: float | None = None  # share with outcome "not-an-article"
    removed: int = 0  # articles a re-fetch found gone


@dataclass(frozen=True)
class Stats:
    articles: int  # stored, removed ones included
    clusters: int  # distinct stories
    multi_article_clusters: int  # stories seen more than once
    versions: int
    urls: int
    runs: int
    sources: list[SourceStats]  # one per source, by name
    last_run: RunRow | None
    fetch_outcomes: dict[str, int]
    #: (day, articles published that day), oldest first, over the last ``days`` days with any.
    articles_per_day: list[tuple[date, int]] = field(default_factory=list)
    #: Articles a re-fetch found gone (404, 410, redirect home): kept, hidden from listings.
    removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["articles_per_day"] = [[day.isoformat(), n] for day, n in self.articles_per_day]
        for source in data["sources"]:
            for key in ("first_seen_at", "last_seen_at", "latest_published_at", "last_run_at"):
                source[key] = _iso(source[key])
        if data["last_run"] is not None:
            for key in ("started_at", "finished_at", "seen_at"):
                data["last_run"][key] = _iso(data["last_run"][key])
        return data


def _fetch_rates(session: Session) -> dict[str, tuple[int, int, int]]:
    """Per source: (fetches, errors, not-an-article), from the runs that name a source."""
    outcome = FetchLog.outcome
    rows = session.execute(
        sa.select(
            CrawlRun.source,
            sa.func.count(FetchLog.id),
            sa.func.count(FetchLog.id).filter(outcome == "error"),
            sa.func.count(FetchLog.id).filter(outcome == "not-an-article"),
        )
        .join(FetchLog, FetchLog.run_id == CrawlRun.id)
        .where(CrawlRun.source.is_not(None))
        .group_by(CrawlRun.source)
    )
    return {source: (total, errors, not_articles) for source, total, errors, not_articles in rows}


def _last_runs(session: Session) -> dict[str, tuple[datetime, str]]:
    latest = (
        sa.select(CrawlRun.source, sa.func.max(CrawlRun.id).label("id"))
        .where(CrawlRun.source.is_not(None))
        .group_by(CrawlRun.source)
        .subquery()
    )
    rows = session.execute(
        sa.select(CrawlRun.source, CrawlRun.started_at, CrawlRun.status).join(latest, latest.c.id == CrawlRun.id)
    )
    return {source: (started_at, status) for source, started_at, status in rows}


def _articles_per_day(session: Session, days: int) -> list[tuple[date, int]]:
    if dialect_name(session) == "postgresql":
        day = sa.cast(sa.func.timezone("UTC", Article.published_at), sa.Date)
    else:
        day = sa.func.date(Article.published_at)  # stored as naive UTC text
    recent = sa.select(day.label("day"), sa.func.count().label("n")).where(Article.published_at.is_not(None))
    recent = recent.group_by(day).order_by(day.desc()).limit(days).subquery()
    rows = session.execute(sa.select(recent.c.day, recent.c.n).order_by(recent.c.day))
    return [(value if isinstance(value, date) else date.fromisoformat(value), n) for value, n in rows]


def corpus_stats(session: Session, *, days: int = 14) -> Stats:
    """Corpus totals, per-source counts with crawl error rates, and articles per published day."""
    _begin_read(session)

    def count(stmt: sa.Select) -> int:
        return session.execute(stmt).scalar_one()

    rates = _fetch_rates(session)
    last_runs = _last_runs(session)

    def rate(name: str, index: int) -> float | None:
        total = rates.get(name, (0, 0, 0))[0]
        return round(rates[name][index] / total, 4) if total else None

    sources = [
        SourceStats(
            source=r.name,
            articles=r.articles,
            clusters=r.clusters,
            first_seen_at=r.first_seen_at,
            last_seen_at=r.last_seen_at,
            latest_published_at=r.latest_published_at,
            last_run_at=last_runs.get(r.name, (None, None))[0],
            last_run_status=last_runs.get(r.name, (None, None))[1],
            fetches=rates.get(r.name, (0, 0, 0))[0],
            error_rate=rate(r.name, 1),
            not_article_rate=rate(r.name, 2),
            removed=r.removed,
        )
        for r in session.execute(
            sa.select(
                Source.name,
                sa.func.count(Article.id).label("articles"),
                sa.func.count(sa.distinct(Article.cluster_id)).label("clusters"),
                sa.func.min(Article.first_seen_at).label("first_seen_at"),
                sa.func.max(Article.last_seen_at).label("last_seen_at"),
                sa.func.max(Article.published_at).label("latest_published_at"),
                sa.func.count(Article.removed_at).label("removed"),
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
        articles_per_day=_articles_per_day(session, days),
        removed=count(sa.select(sa.func.count()).select_from(Article).where(Article.removed_at.is_not(None))),
    )


def version_diff(detail: ArticleDetail, old: int, new: int, *, context: int = 3) -> str:
    """A unified diff (difflib) of an article's text between two of its versions."""
    by_number = {v.version: v for v in detail.versions}
    missing = [n for n in (old, new) if n not in by_number]
    if missing:
        known = ", ".join(str(n) for n in sorted(by_number)) or "none"
        raise ValueError(f"article {detail.article.id} has no version {missing[0]} (versions: {known})")
    before, after = by_number[old], by_number[new]
    # Lines without their ends: a text's last line has none, and compared with ends it differed
    # from the same line followed by a new paragraph.
    lines = difflib.unified_diff(
        before.text.splitlines(),
        after.text.splitlines(),
        fromfile=f"version {old} ({_iso(before.seen_at)})",
        tofile=f"version {new} ({_iso(after.seen_at)})",
        n=context,
        lineterm="",
    )
    return "".join(f"{line}\n" for line in lines)


# --- story clusters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterMember:
    article_id: int
    source: str
    title: str | None
    canonical_url: str
    published_at: datetime | None
    first_seen_at: datetime


@dataclass(frozen=True)
class ClusterSummary:
    id: int
    size: int  # articles
    sources: list[str]  # distinct, in the order they first carried the story
    first_seen_at: datetime
    representative_id: int | None
    members: list[ClusterMember]  # earliest published first (undated last)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_seen_at"] = _iso(self.first_seen_at)
        for member in data["members"]:
            member["published_at"] = _iso(member["published_at"])
            member["first_seen_at"] = _iso(member["first_seen_at"])
        return data


def _members(session: Session, cluster_ids: list[int], *, include_removed: bool) -> dict[int, list[ClusterMember]]:
    members: dict[int, list[ClusterMember]] = {cluster_id: [] for cluster_id in cluster_ids}
    if not cluster_ids:
        return members
    rows = session.execute(
        sa.select(
            Article.cluster_id,
            Article.id,
            Source.name,
            Article.title,
            Article.canonical_url,
            Article.published_at,
            Article.first_seen_at,
        )
        .join(Source, Source.id == Article.source_id)
        .where(Article.cluster_id.in_(cluster_ids), *_shown(include_removed))
        .order_by(Article.cluster_id, *SORTS["oldest"])
    )
    for cluster_id, article_id, source, title, url, published_at, first_seen_at in rows:
        members[cluster_id].append(ClusterMember(article_id, source, title, url, published_at, first_seen_at))
    return members


def _shown(include_removed: bool) -> tuple[sa.ColumnElement[bool], ...]:
    """The condition that hides removed stories, unless they are asked for."""
    return () if include_removed else (Article.removed_at.is_(None),)


def _summary(cluster_id: int, representative_id: int | None, members: list[ClusterMember]) -> ClusterSummary:
    by_first_seen = sorted(members, key=lambda m: (m.first_seen_at, m.article_id))
    return ClusterSummary(
        id=cluster_id,
        size=len(members),
        sources=list(dict.fromkeys(m.source for m in by_first_seen)),
        first_seen_at=by_first_seen[0].first_seen_at,
        representative_id=representative_id,
        members=members,
    )


def list_clusters(
    session: Session,
    *,
    min_size: int = 2,
    min_sources: int = 1,
    since: datetime | None = None,
    limit: int | None = 20,
    include_removed: bool = False,
) -> list[ClusterSummary]:
    """The largest stories, with every member.

    ``min_size`` counts articles, ``min_sources`` distinct sources. With ``since``, only clusters
    with a member published (or, when undated, first seen) at or after it. Largest first, then
    the most recently first seen. Removed stories neither count nor show unless ``include_removed``.
    """
    _begin_read(session)
    size = sa.func.count(Article.id)
    first_seen = sa.func.min(Article.first_seen_at)
    stmt = (
        sa.select(Cluster.id, Cluster.representative_article_id, size.label("size"), first_seen)
        .join(Article, Article.cluster_id == Cluster.id)
        .where(*_shown(include_removed))
        .group_by(Cluster.id, Cluster.representative_article_id)
        .having(size >= min(min_size, MAX_INTEGER))
        .order_by(size.desc(), first_seen.desc(), Cluster.id.desc())
    )
    if min_sources > 1:
        stmt = stmt.having(sa.func.count(sa.distinct(Article.source_id)) >= min(min_sources, MAX_INTEGER))
    if since is not None:
        stmt = stmt.having(sa.func.max(sa.func.coalesce(Article.published_at, Article.first_seen_at)) >= since)
    if limit is not None:
        stmt = stmt.limit(limit)
    found = session.execute(stmt).all()
    members = _members(session, [row.id for row in found], include_removed=include_removed)
    return [_summary(row.id, row.representative_article_id, members[row.id]) for row in found]


def get_cluster(session: Session, cluster_id: int, *, include_removed: bool = False) -> ClusterSummary | None:
    """One story cluster with every member (removed ones only with ``include_removed``), or None."""
    if cluster_id > MAX_INTEGER:
        return None
    _begin_read(session)
    representative = session.execute(
        sa.select(Cluster.representative_article_id).where(Cluster.id == cluster_id)
    ).one_or_none()
    if representative is None:
        return None
    members = _members(session, [cluster_id], include_removed=include_removed)[cluster_id]
    if not members:
        return None
    return _summary(cluster_id, representative[0], members)
