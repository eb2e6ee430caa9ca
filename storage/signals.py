"""Publishers' signals in the database: per article (its latest capture) and per site.

Written by the crawl's write path (``storage.batches``) and the crawl run; read by ``show``,
``stats`` and the ``--tdm-allowed`` / ``--free-only`` / ``--exclude-noarchive`` filters. The
values come already read (``crawler.extraction.signals``): storage knows no HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from storage.db import dialect_insert
from storage.models import Article, ArticleSignals, SiteSignals

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "ROBOTS_COLUMNS",
    "SignalsIn",
    "SiteSignalsIn",
    "article_signals",
    "record_article_signals",
    "record_site_signals",
    "signal_conditions",
    "signal_counts",
    "site_of",
    "site_signals",
]

#: Robots directives stored as a column each (so a filter is a plain WHERE).
ROBOTS_COLUMNS = ("noindex", "noarchive", "nosnippet", "noai", "noimageai")


@dataclass(frozen=True)
class SignalsIn:
    """One capture's signals, as the crawl read them."""

    tdm_reserved: bool | None = None
    tdm_policy: str | None = None
    tdm_origin: str | None = None
    robots: frozenset[str] = frozenset()
    content_usage: str | None = None
    free: bool | None = None
    paywall_selectors: tuple[str, ...] = ()
    paywall_truncated: bool = False


@dataclass(frozen=True)
class SiteSignalsIn:
    """A site's tdmrep.json rules (None: no file) and robots.txt verdicts (None: not read)."""

    site: str
    source: str | None
    tdmrep: dict[str, Any] | None = None
    tdmrep_error: str | None = None
    robots: dict[str, Any] | None = None


def site_of(url: str) -> str:
    """The site a URL belongs to for site-wide signals: scheme and host (with port)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def record_article_signals(session: Session, article_id: int, signals: SignalsIn, captured_at: datetime) -> None:
    """Keep the signals of an article's latest capture (an upsert: a later capture replaces them)."""
    values: dict[str, Any] = {
        "article_id": article_id,
        "captured_at": captured_at,
        "tdm_reserved": signals.tdm_reserved,
        "tdm_policy": signals.tdm_policy,
        "tdm_origin": signals.tdm_origin,
        "content_usage": signals.content_usage,
        "free": signals.free,
        "paywall_selectors": list(signals.paywall_selectors),
        "paywall_truncated": signals.paywall_truncated,
        **{name: name in signals.robots for name in ROBOTS_COLUMNS},
    }
    stmt = dialect_insert(session, ArticleSignals.__table__).values(values)
    update = {key: stmt.excluded[key] for key in values if key != "article_id"}
    session.execute(stmt.on_conflict_do_update(index_elements=["article_id"], set_=update))


def record_site_signals(session: Session, signals: SiteSignalsIn, checked_at: datetime) -> None:
    """Keep what a site said when last read; a part not read this time (None) keeps its last value."""
    values = {"site": signals.site, "source": signals.source, "checked_at": checked_at}
    if signals.tdmrep is not None or signals.tdmrep_error is not None:
        values |= {"tdmrep": signals.tdmrep, "tdmrep_error": signals.tdmrep_error}
    if signals.robots is not None:
        values["robots"] = signals.robots
    stmt = dialect_insert(session, SiteSignals.__table__).values(values)
    update = {key: stmt.excluded[key] for key in values if key != "site"}
    session.execute(stmt.on_conflict_do_update(index_elements=["site"], set_=update))


def article_signals(session: Session, article_id: int) -> dict[str, Any] | None:
    """An article's signals and its site's, for ``show``; None when it was never read for them."""
    row = session.get(ArticleSignals, article_id)
    if row is None:
        return None
    url = session.scalar(sa.select(Article.url).where(Article.id == article_id))
    data = {
        "captured_at": row.captured_at.isoformat(),
        "tdm_reserved": row.tdm_reserved,
        "tdm_policy": row.tdm_policy,
        "tdm_origin": row.tdm_origin,
        "robots": [name for name in ROBOTS_COLUMNS if getattr(row, name)],
        "content_usage": row.content_usage,
        "free": row.free,
        "paywall_selectors": list(row.paywall_selectors or []),
        "paywall_truncated": row.paywall_truncated,
    }
    site = site_signals(session, site_of(url)) if url else None
    data["site"] = site
    return data


def site_signals(session: Session, site: str) -> dict[str, Any] | None:
    row = session.get(SiteSignals, site)
    if row is None:
        return None
    robots = row.robots or {}
    blocked = sorted(name for name, allowed in (robots.get("ai_agents") or {}).items() if not allowed)
    return {
        "site": row.site,
        "checked_at": row.checked_at.isoformat(),
        "tdmrep": row.tdmrep,
        "tdmrep_error": row.tdmrep_error,
        "robots_allows_us": robots.get("ours"),
        "robots_blocks_ai_agents": blocked,
        "ai_agent_list_updated": robots.get("list_updated"),
    }


def signal_conditions(*, tdm_allowed: bool = False, free_only: bool = False, exclude_noarchive: bool = False) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on ``articles`` for the signal filters.

    An article never read for signals (stored before they were recorded) passes none of them:
    nothing is known of what its publisher allows.
    """
    conditions = []
    if tdm_allowed:
        # No reservation anywhere (unset) or an explicit 0: text and data mining is not reserved.
        conditions.append(_has_signals(sa.or_(ArticleSignals.tdm_reserved.is_(None), ArticleSignals.tdm_reserved.is_(False))))
    if free_only:
        conditions.append(_has_signals(sa.and_(ArticleSignals.free.is_not(False), ArticleSignals.paywall_truncated.is_(False))))
    if exclude_noarchive:
        conditions.append(_has_signals(ArticleSignals.noarchive.is_(False)))
    return conditions


def _has_signals(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.exists().where(ArticleSignals.article_id == Article.id, condition)


def signal_counts(session: Session) -> dict[str, int]:
    """How many stored articles carry each signal (and how many were read for signals at all)."""
    shown = Article.removed_at.is_(None)
    row = session.execute(
        sa.select(
            sa.func.count(),
            *(sa.func.count().filter(condition) for condition in _COUNTED.values()),
        )
        .select_from(ArticleSignals)
        .join(Article, Article.id == ArticleSignals.article_id)
        .where(shown)
    ).one()
    return dict(zip(("read_for_signals", *_COUNTED), row, strict=True))


_COUNTED: dict[str, sa.ColumnElement[bool]] = {
    "tdm_reserved": ArticleSignals.tdm_reserved.is_(True),
    "noarchive": ArticleSignals.noarchive.is_(True),
    "noai": ArticleSignals.noai.is_(True),
    "paywalled": ArticleSignals.free.is_(False),
    "paywall_truncated": ArticleSignals.paywall_truncated.is_(True),
}

