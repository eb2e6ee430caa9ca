"""The web view over the corpus: server-rendered pages and a JSON API, read-only by construction.

Every string shown came from the open web, so templates autoescape everything, no corpus value
is marked safe, links to stored URLs are kept only for http(s), and each response carries a
Content-Security-Policy that allows no script at all. Pages read through ``storage`` query
functions on sessions opened read-only (``storage.db.open_read_only``); no route writes.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from crawler.web.charts import bar_chart
from crawler.web.diff import side_by_side
from storage import browse, queries
from storage import health as health_store
from storage.runs import FETCH_OUTCOMES
from storage.values import days_after

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["CONTENT_SECURITY_POLICY", "BadRequest", "create_app"]

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
#: No script from anywhere, styles and images from this server only, no framing, forms post here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGE_SIZE, MAX_PAGE_SIZE = 20, 200
#: A download streams at most this many rows unless the query asks for fewer.
MAX_DOWNLOAD = 100_000
CHART_SPANS = (30, 90)
SEARCH_SORTS = ("relevance", "published", "oldest", "seen", "updated", "title", "words")
DOWNLOAD_COLUMNS = ("id", "source", "published_at", "title", "canonical_url", "language", "word_count",
                    "cluster_id", "version", "authors", "text")  # fmt: skip


class BadRequest(HTTPException):
    """A query parameter that cannot be used: a 400 with a one-line message."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


# -- query parameters ---------------------------------------------------------------------------


def _text(request: Request, name: str, *, max_length: int = 500) -> str | None:
    value = request.query_params.get(name, "").strip()
    if not value:
        return None
    if len(value) > max_length or "\x00" in value:
        raise BadRequest(f"{name} must be at most {max_length} characters without NUL")
    return value


def _number(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    value = request.query_params.get(name, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, not {value[:40]!r}")
    return int(value)


def _day(request: Request, name: str) -> date | None:
    value = _text(request, name, max_length=10)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2026-11-02, not {value!r}") from None


def _choice(request: Request, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
    value = _text(request, name, max_length=40) or default
    if value is not None and value not in choices:
        raise BadRequest(f"unknown {name} {value!r}; expected one of {', '.join(choices)}")
    return value


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def article_filter(request: Request, *, limit: int | None = None) -> queries.ArticleFilter:
    """The search of a request's query string (q, source, language, day, since, until, sort)."""
    search = _text(request, "q", max_length=queries.MAX_SEARCH_LENGTH)
    day, since, until = _day(request, "day"), _day(request, "since"), _day(request, "until")
    if day is not None and (since or until):
        raise BadRequest("give either day or since/until, not both")
    if day is not None:
        since, until = day, days_after(day, 1)
    elif until is not None:
        until = days_after(until, 1)  # until is inclusive
    sort = _choice(request, "sort", SEARCH_SORTS, "relevance" if search else "published")
    if sort == "relevance" and not search:
        raise BadRequest("sorting by relevance needs a search (q)")
    if search is not None:
        try:
            queries.parse_search(search)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    return queries.ArticleFilter(
        search=search,
        source=_text(request, "source"),
        language=_text(request, "language", max_length=20),
        since=_midnight(since) if since else None,
        until=_midnight(until) if until else None,
        sort=sort,
        limit=limit,
    )


def _page(request: Request) -> tuple[int, int]:
    per_page = _number(request, "per_page", PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    page = _number(request, "page", 1, low=1, high=10_000)
    return page, per_page


# -- values for templates -----------------------------------------------------------------------


def safe_href(url: str | None) -> str | None:
    """The URL if it is http(s), for an href; anything else (javascript:, data:) is shown as text only."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def snippet_parts(snippet: str | None) -> list[tuple[str, bool]]:
    """A «marked» snippet as (text, is_match) parts, for the template to wrap matches in <mark>."""
    if not snippet:
        return []
    parts = snippet.replace(queries.SNIPPET_CLOSE, queries.SNIPPET_OPEN).split(queries.SNIPPET_OPEN)
    return [(part, index % 2 == 1) for index, part in enumerate(parts) if part]


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "—"


def _query(request: Request, **changes: Any) -> str:
    """The request's query string with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return urlencode(params)


# -- the application ----------------------------------------------------------------------------


def create_app(
    sessions: sessionmaker[Session], *, health_thresholds: health_store.HealthThresholds | None = None
) -> Starlette:
    """The web app over read-only ``sessions`` (see ``storage.db.open_read_only``); the sources page
    judges each source's health with ``health_thresholds`` (``newsdesk health``'s, from the settings)."""
    health_thresholds = health_thresholds or health_store.HealthThresholds()
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters.update(when=_when, href=safe_href, snippet_parts=snippet_parts)

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = templates.get_template(name).render(request=request, query=lambda **c: _query(request, **c), **context)
        return HTMLResponse(html, status_code=status)

    def read(work: Callable[[Session], Any]) -> Any:
        with sessions() as session:
            try:
                return work(session)
            except ValueError as exc:  # a filter the store cannot run: the user's to fix
                raise BadRequest(str(exc)) from None

    # -- search --

    def search_data(request: Request) -> tuple[queries.ArticleFilter, browse.SearchPage]:
        f = article_filter(request)
        page, per_page = _page(request)
        found = read(lambda s: browse.search_page(s, f, offset=(page - 1) * per_page, limit=per_page))
        return f, found

    def search(request: Request) -> Response:
        f, found = search_data(request)
        page, per_page = _page(request)
        pages = max(1, -(-found.total // per_page))
        return render(request, "search.html", f=f, found=found, page=page, pages=pages, sorts=SEARCH_SORTS)

    def api_articles(request: Request) -> Response:
        _, found = search_data(request)
        return JSONResponse({
            "total": found.total, "offset": found.offset, "limit": found.limit,
            "facets": found.facets.as_dict(), "articles": [_brief(row) for row in found.rows],
        })  # fmt: skip

    def download(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in ("csv", "jsonl"):
            raise HTTPException(404, f"no download format {fmt[:20]!r}; expected csv or jsonl")
        f = article_filter(request, limit=_number(request, "limit", MAX_DOWNLOAD, low=1, high=MAX_DOWNLOAD))
        read(lambda s: browse.search_page(s, f, offset=0, limit=1))  # refuse a bad filter before streaming

        def rows() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, DOWNLOAD_COLUMNS, extrasaction="ignore")
            if fmt == "csv":
                writer.writeheader()
            with sessions() as session:
                for row in queries.iter_articles(session, f):
                    data = row.as_dict()
                    if fmt == "jsonl":
                        yield json.dumps(data, ensure_ascii=False) + "\n"
                        continue
                    data["authors"] = "; ".join(data["authors"])
                    writer.writerow(data)
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            if fmt == "csv" and buffer.getvalue():  # no rows: the header alone
                yield buffer.getvalue()

        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
        headers = {"Content-Disposition": f'attachment; filename="newsdesk-search.{fmt}"'}
        return StreamingResponse(rows(), media_type=media, headers=headers)

    # -- article --

    def article_data(request: Request) -> tuple[queries.ArticleDetail, str | None]:
        article_id = _path_id(request)

        def work(session: Session) -> tuple[queries.ArticleDetail | None, str | None]:
            detail = queries.get_article(session, article_id)
            markdown = browse.article_markdown(session, article_id) if detail else None
            return detail, markdown

        detail, markdown = read(work)
        if detail is None:
            raise HTTPException(404, f"no article {article_id}")
        return detail, markdown

    def article(request: Request) -> Response:
        detail, markdown = article_data(request)
        numbers = [v.version for v in detail.versions]
        diff = None
        if len(numbers) > 1:
            old = _number(request, "old", numbers[-2], low=1, high=2**31)
            new = _number(request, "new", numbers[-1], low=1, high=2**31)
            by_number = {v.version: v for v in detail.versions}
            if old not in by_number or new not in by_number:
                raise BadRequest(f"article {detail.article.id} has versions {', '.join(map(str, numbers))}")
            diff = (old, new, side_by_side(by_number[old].text, by_number[new].text))
        view = _choice(request, "view", ("text", "markdown"), "text")
        return render(request, "article.html", d=detail, a=detail.article, markdown=markdown, view=view, diff=diff)

    def api_article(request: Request) -> Response:
        detail, markdown = article_data(request)
        data = detail.as_dict()
        if markdown is not None:
            data["markdown"] = markdown
        return JSONResponse(data)

    # -- clusters --

    def clusters_data(request: Request) -> list[queries.ClusterSummary]:
        limit = _number(request, "limit", 50, low=1, high=MAX_PAGE_SIZE)
        min_sources = _number(request, "min_sources", 2, low=1, high=1000)
        since = _day(request, "since")
        found = read(
            lambda s: queries.list_clusters(
                s, min_size=2, min_sources=min_sources, since=_midnight(since) if since else None, limit=None
            )
        )
        newest = sorted(found, key=lambda c: max(m.published_at or m.first_seen_at for m in c.members), reverse=True)
        return newest[:limit]

    def clusters(request: Request) -> Response:
        return render(request, "clusters.html", clusters=clusters_data(request))

    def api_clusters(request: Request) -> Response:
        return JSONResponse({"clusters": [c.as_dict() for c in clusters_data(request)]})

    # -- sources --

    def sources_data(request: Request) -> tuple[int, list[dict[str, Any]]]:
        days = _number(request, "days", CHART_SPANS[0], low=1, high=366)
        end = _day(request, "end")  # the chart's last day; today by default

        def work(session: Session) -> list[dict[str, Any]]:
            per_day = browse.articles_per_source_day(session, days=days, today=end)
            stats = {s.source: s for s in queries.corpus_stats(session, days=days).sources}
            # As newsdesk health judges them, on the chart's last day; a source that stored nothing
            # yet (every request refused, say) is listed for its health alone.
            health = {h.source: h for h in health_store.source_health(session, thresholds=health_thresholds, today=end)}
            last = end or datetime.now(UTC).date()
            no_articles = [(days_after(last, -back), 0) for back in range(days - 1, -1, -1)]
            result = []
            for name in sorted(per_day.keys() | health.keys()):
                runs = browse.runs_page(session, source=name, limit=5)
                result.append({
                    "source": name, "per_day": per_day.get(name, no_articles), "stats": stats.get(name),
                    "runs": runs, "outcomes": browse.run_outcomes(session, [r.id for r in runs]),
                    "health": health.get(name),
                })  # fmt: skip
            return result

        return days, read(work)

    def sources(request: Request) -> Response:
        days, found = sources_data(request)
        for entry in found:
            entry["chart"] = bar_chart(entry["per_day"])
        judged = [e["health"].shown_status for e in found if e["health"] is not None]
        tally = [(status, judged.count(status)) for status in ("alert", "warn", "ok") if status in judged]
        return render(
            request, "sources.html", days=days, spans=CHART_SPANS, sources=found, tally=tally,
            window=health_thresholds.window_days,
        )  # fmt: skip

    def api_sources(request: Request) -> Response:
        days, found = sources_data(request)
        return JSONResponse({
            "days": days,
            "sources": [
                {
                    "source": e["source"],
                    "articles": e["stats"].articles if e["stats"] else 0,
                    "articles_per_day": [[d.isoformat(), n] for d, n in e["per_day"]],
                    "runs": [_run(r, e["outcomes"].get(r.id, {})) for r in e["runs"]],
                    # newsdesk health --format json's entry; None: not crawled in the window.
                    "health": e["health"].as_dict() if e["health"] else None,
                }
                for e in found
            ],
        })

    # -- runs --

    def runs_data(request: Request) -> list[tuple[Any, dict[str, int]]]:
        limit = _number(request, "limit", 50, low=1, high=MAX_PAGE_SIZE)
        source = _text(request, "source")

        def work(session: Session) -> list[tuple[Any, dict[str, int]]]:
            found = browse.runs_page(session, source=source, limit=limit)
            outcomes = browse.run_outcomes(session, [r.id for r in found])
            return [(r, outcomes[r.id]) for r in found]

        return read(work)

    def runs(request: Request) -> Response:
        return render(request, "runs.html", runs=runs_data(request))

    def api_runs(request: Request) -> Response:
        return JSONResponse({"runs": [_run(r, outcomes) for r, outcomes in runs_data(request)]})

    def run_data(request: Request) -> tuple[Any, dict[str, int], list[browse.FetchEntry], str | None]:
        run_id = _path_id(request)
        outcome = _choice(request, "outcome", tuple(sorted(FETCH_OUTCOMES)))
        limit = _number(request, "limit", 500, low=1, high=5_000)

        def work(session: Session) -> tuple[Any, dict[str, int], list[browse.FetchEntry]]:
            found = browse.runs_page(session, limit=1, run_id=run_id)
            if not found:
                raise HTTPException(404, f"no run {run_id}")
            return found[0], browse.run_outcomes(session, [run_id])[run_id], browse.run_log(
                session, run_id, outcome=outcome, limit=limit
            )

        run, outcomes, log = read(work)
        return run, outcomes, log, outcome

    def run(request: Request) -> Response:
        found, outcomes, log, outcome = run_data(request)
        return render(request, "run.html", run=found, outcomes=outcomes, log=log, outcome=outcome)

    def api_run(request: Request) -> Response:
        found, outcomes, log, _ = run_data(request)
        return JSONResponse({**_run(found, outcomes), "log": [entry.as_dict() for entry in log]})

    # -- errors: one message, never a traceback --

    def error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, message = exc.status_code, exc.detail
        else:
            logger.exception("error serving %s", request.url.path)
            status, message = 500, "internal error (logged on the server)"
        if request.url.path.startswith("/api/") or request.path_params.get("fmt"):
            response: Response = JSONResponse({"error": message}, status_code=status)
        else:
            response = render(request, "error.html", status=status, status_code=status, message=message)
        response.headers.update(SECURITY_HEADERS)  # a 500 passes no middleware on its way out
        return response

    routes = [
        Route("/", search, name="search"),
        Route("/search.{fmt:str}", download, name="download"),
        Route("/articles/{id}", article, name="article"),
        Route("/clusters", clusters, name="clusters"),
        Route("/sources", sources, name="sources"),
        Route("/runs", runs, name="runs"),
        Route("/runs/{id}", run, name="run"),
        Route("/api/articles", api_articles),
        Route("/api/articles/{id}", api_article),
        Route("/api/clusters", api_clusters),
        Route("/api/sources", api_sources),
        Route("/api/runs", api_runs),
        Route("/api/runs/{id}", api_run),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    async def security_headers(request: Request, call_next: Callable) -> Response:
        if request.method not in ("GET", "HEAD"):
            response: Response = JSONResponse({"error": "read-only: only GET and HEAD"}, status_code=405)
        else:
            response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    return Starlette(
        routes=routes,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=security_headers)],
        exception_handlers={HTTPException: error, Exception: error},
    )


def _path_id(request: Request) -> int:
    value = request.path_params["id"]
    if not (value.isascii() and value.isdigit()) or int(value) > 2**63 - 1:
        raise HTTPException(404, f"no such id {value[:40]!r}")
    return int(value)


def _brief(row: queries.ArticleRow) -> dict[str, Any]:
    data = row.as_dict()
    data.pop("text")
    return data


def _run(run: Any, outcomes: dict[str, int]) -> dict[str, Any]:
    return {
        "id": run.id,
        "source": run.source,
        "status": run.status,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "outcomes": outcomes,
        "error": run.error,
    }
