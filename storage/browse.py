"""Read functions for browsing the corpus page by page: the web view's search facets and paging,
articles per source and day, and runs with their outcome counts.

Built on :mod:`storage.queries` (the same filters, sorts and search), so the web view and the
CLI answer a question the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage.db import READ_ONLY_BEGIN, dialect_name
from storage.models import Article, CrawlRun, FetchLog, Source
from storage.queries import ArticleFilter, ArticleRow, _row, build_query
from storage.runs import RunRow, run_row
from storage.values import days_after

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "Facets",
    "FetchEntry",
    "SearchPage",
    "article_markdown",
    "articles_per_source_day",
    "list_sources",
    "run_outcomes",
    "run_log",
    "runs_page",
    "search_page",
]


def _begin_read(session: Session) -> None:
    if not session.in_transaction():
        session.connection(execution_options=READ_ONLY_BEGIN)


def _day(session: Session, column: Any) -> Any:
    if dialect_name(session) == "postgresql":
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.func.date(column)  # stored as naive UTC text


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class Facets:
    """Counts of the matching articles by source, language and published day (busiest first)."""

    sources: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    days: list[tuple[date, int]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": [[name, n] for name, n in self.sources],
            "language": [[name, n] for name, n in self.languages],
            "day": [[day.isoformat(), n] for day, n in self.days],
        }


@dataclass(frozen=True)
class SearchPage:
    rows: list[ArticleRow]
    total: int
    offset: int
    limit: int
    facets: Facets


#: Facet lists are cut at this many values: a page shows the busiest ones.
FACET_VALUES = 30


def search_page(session: Session, f: ArticleFilter, *, offset: int, limit: int) -> SearchPage:
    """One page of matching articles (with snippets when searching), their total and facets.

    Raises ``ValueError`` for a filter that cannot be run, as :func:`storage.queries.iter_articles`.
    """
    _begin_read(session)
    dialect = dialect_name(session)
    stmt = build_query(f, dialect, snippets=f.search is not None).offset(offset).limit(limit)
    rows = [_row(m) for m in _execute(session, stmt).mappings()]
    matching = build_query(f, dialect).order_by(None).subquery()
    total = _execute(session, sa.select(sa.func.count()).select_from(matching)).scalar_one()

    def counts(column: Any) -> list[tuple[Any, int]]:
        n = sa.func.count()
        stmt = sa.select(column, n).where(column.is_not(None)).group_by(column)
        stmt = stmt.order_by(n.desc(), column).limit(FACET_VALUES)
        return [(value, count) for value, count in _execute(session, stmt)]

    day = _day(session, matching.c.published_at)
    facets = Facets(
        sources=counts(matching.c.source),
        languages=counts(matching.c.language),
        days=sorted(((_as_date(d), n) for d, n in counts(day)), reverse=True),
    )
    return SearchPage(rows=rows, total=total, offset=offset, limit=limit, facets=facets)


def _execute(session: Session, stmt: sa.Executable) -> sa.Result:
    try:
        return session.execute(stmt)
    except sa.exc.OperationalError as exc:
        if "fts5" in str(exc.orig).lower():
            raise ValueError(f"search not understood: {str(exc.orig).splitlines()[0]}") from None
        raise


def article_markdown(session: Session, article_id: int) -> str | None:
    """The article's Markdown rendition, where the store keeps one (None otherwise)."""
    column = getattr(Article, "markdown", None)
    if column is None:
        return None
    _begin_read(session)
    return session.execute(sa.select(column).where(Article.id == article_id)).scalar()


def list_sources(session: Session) -> list[str]:
    _begin_read(session)
    return list(session.execute(sa.select(Source.name).order_by(Source.name)).scalars())


def articles_per_source_day(
    session: Session, *, days: int, today: date | None = None
) -> dict[str, list[tuple[date, int]]]:
    """Per source, articles published on each of the ``days`` days up to ``today`` (zeros included), oldest first."""
    _begin_read(session)
    today = today or datetime.now(UTC).date()
    first = days_after(today, -(days - 1))
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    until = datetime.combine(days_after(today, 1), datetime.min.time(), tzinfo=UTC)
    day = _day(session, Article.published_at)
    rows = session.execute(
        sa.select(Source.name, day, sa.func.count())
        .join(Source, Source.id == Article.source_id)
        .where(Article.published_at >= since, Article.published_at < until, Article.removed_at.is_(None))
        .group_by(Source.name, day)
    )
    found: dict[str, dict[date, int]] = {name: {} for name in list_sources(session)}
    for name, value, n in rows:
        found.setdefault(name, {})[_as_date(value)] = n
    span = [first + timedelta(days=i) for i in range(days)]
    return {name: [(d, per_day.get(d, 0)) for d in span] for name, per_day in found.items()}


def runs_page(
    session: Session, *, source: str | None = None, run_id: int | None = None, limit: int = 20, offset: int = 0
) -> list[RunRow]:
    """Crawl runs, newest first; with ``source``, that source's only; with ``run_id``, that run."""
    _begin_read(session)
    stmt = sa.select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    if run_id is not None:
        stmt = stmt.where(CrawlRun.id == run_id)
    if source is not None:
        stmt = stmt.where(CrawlRun.source == source)
    return [run_row(run) for run in session.execute(stmt.offset(offset).limit(limit)).scalars()]


def run_outcomes(session: Session, run_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per run, how many fetches ended in each outcome (from the crawl log)."""
    _begin_read(session)
    counts: dict[int, dict[str, int]] = {run_id: {} for run_id in run_ids}
    if run_ids:
        rows = session.execute(
            sa.select(FetchLog.run_id, FetchLog.outcome, sa.func.count())
            .where(FetchLog.run_id.in_(run_ids))
            .group_by(FetchLog.run_id, FetchLog.outcome)
            .order_by(FetchLog.run_id, FetchLog.outcome)
        )
        for run_id, outcome, n in rows:
            counts[run_id][outcome] = n
    return counts


@dataclass(frozen=True)
class FetchEntry:
    url: str
    status: int | None
    outcome: str
    reason: str | None
    article_id: int | None
    fetched_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "fetched_at": self.fetched_at.isoformat()}


def run_log(
    session: Session, run_id: int, *, outcome: str | None = None, limit: int = 200, offset: int = 0
) -> list[FetchEntry]:
    """One page of a run's crawl log, in fetch order; with ``outcome``, those fetches only."""
    _begin_read(session)
    stmt = sa.select(FetchLog).where(FetchLog.run_id == run_id).order_by(FetchLog.id)
    if outcome is not None:
        stmt = stmt.where(FetchLog.outcome == outcome)
    return [
        FetchEntry(f.url, f.status, f.outcome, f.reason, f.article_id, f.fetched_at)
        for f in session.execute(stmt.offset(offset).limit(limit)).scalars()
    ]
