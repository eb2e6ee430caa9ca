"""Source health per day, read from the crawl log and the articles, and a verdict per source.

No table is kept for it: a source's window (28 days) is reached through ``crawl_runs.started_at``
(a small table) and ``fetch_log.run_id`` (indexed), a few thousand rows a source, aggregated here.
So health is always what the crawl log says, including rows written by an older newsdesk.

The verdict follows Media Cloud's practice for volume (a day below mean - 1.5 sigma or above
mean + 2 sigma of the source's last 28 days of crawling), and adds what a broken source looks like
in a crawl log: the median length of new stories down by half (a redesign the extractor no longer
reads), every request failing the same way, a feed or sitemap that used to answer now failing.
A sharp rise in the share of text removed as site template (the write path logs each story's
characters before and after its source's template blocks are stripped) is a warning: the site
glues more boxes into its stories than it used to, a redesign the extraction may not follow.
A source can be acknowledged: its state is silenced until it changes.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage.db import dialect_insert
from storage.models import Article, CrawlRun, FetchLog, HealthAck
from storage.values import days_after

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "HealthThresholds",
    "Reason",
    "SourceDay",
    "SourceHealth",
    "acknowledge",
    "assess",
    "daily_health",
    "source_health",
]

#: Rows of the crawl log that a hub wrote (robots.txt, a sitemap, a feed, a page read for links):
#: not "not a story" pages. Reasons as ``crawler.spiders.news`` words them.
_FEED_REASON = "feed listing"
_SITEMAP_REASONS = ("sitemap listing", "sitemap index listing")
_HUB_REASONS = (_FEED_REASON, *_SITEMAP_REASONS, "robots.txt listing", "hub, read for links")
#: Rejections of a page whose body came out empty (extraction found no text).
_EMPTY_BODY_REASONS = ("empty", "too-little-text: no body text found")


@dataclass(frozen=True)
class HealthThresholds:
    """When a source is out of line. Defaults: Media Cloud's band, and length down by half."""

    window_days: int = 28
    low_sigma: float = 1.5
    high_sigma: float = 2.0
    #: Median words of new stories at or below this share of the median before the latest run: an alert.
    length_drop: float = 0.5
    #: Days of crawling needed before volume is judged against the band.
    min_history_days: int = 7
    #: New stories needed on a day (and in the window) before their median length is judged.
    min_bodies: int = 3
    #: Share of text removed as site template this much above the window's share: a warning.
    template_rise: float = 0.2


@dataclass
class SourceDay:
    """One source's crawl log on one day (UTC)."""

    source: str
    day: date
    requests: int = 0
    stored: int = 0
    updated: int = 0
    not_a_story: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    robots_refusals: int = 0
    empty_bodies: int = 0
    #: Words of each story first stored this day.
    words: list[int] = field(default_factory=list)
    with_title: int = 0
    with_date: int = 0
    with_author: int = 0
    #: Stories stored or updated this day whose template share was measured (their source's site
    #: profile had matured), their body characters as read, and those stripped as site template.
    profiled: int = 0
    body_chars: int = 0
    template_chars: int = 0
    #: Feeds and sitemaps that answered (URL -> "feed" / "sitemap"), and URLs that failed (-> kind).
    hubs_ok: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def add(self, other: SourceDay) -> None:
        """Fold another run's figures into these (runs of one day make the day)."""
        for name in ("requests", "stored", "updated", "not_a_story", "robots_refusals", "empty_bodies",
                     "with_title", "with_date", "with_author", "profiled", "body_chars",
                     "template_chars"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.update(other.errors)
        self.words.extend(other.words)
        self.hubs_ok.update(other.hubs_ok)
        self.failed.update(other.failed)

    @property
    def median_words(self) -> int | None:
        return round(statistics.median(self.words)) if self.words else None

    @property
    def failures(self) -> int:
        return sum(self.errors.values()) + self.robots_refusals

    @property
    def template_share(self) -> float | None:
        """Share of the characters read that were stripped as site template; None when unmeasured."""
        return round(self.template_chars / self.body_chars, 3) if self.body_chars else None

    def share(self, count: int) -> float | None:
        return round(count / len(self.words), 3) if self.words else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "requests": self.requests,
            "stored": self.stored,
            "updated": self.updated,
            "not_a_story": self.not_a_story,
            "errors": dict(self.errors),
            "robots_refusals": self.robots_refusals,
            "empty_body_rejections": self.empty_bodies,
            "median_words": self.median_words,
            "share_with_title": self.share(self.with_title),
            "share_with_date": self.share(self.with_date),
            "share_with_author": self.share(self.with_author),
            "template_share": self.template_share,
        }


@dataclass(frozen=True)
class Reason:
    """One finding, in words; ``kind`` names it without its figures (what an acknowledgement keeps)."""

    level: str  # "warn" or "alert"
    kind: str
    text: str


@dataclass(frozen=True)
class SourceHealth:
    source: str
    status: str  # ok, warn, alert
    reasons: tuple[Reason, ...]
    latest: SourceDay | None
    acknowledged: bool = False

    @property
    def state(self) -> str:
        """The state an acknowledgement silences: the status and the kinds of its reasons."""
        return " ".join([self.status, *sorted({reason.kind for reason in self.reasons})])

    @property
    def shown_status(self) -> str:
        return "ok" if self.acknowledged else self.status

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.shown_status,
            "acknowledged": self.acknowledged,
            "state": self.status,
            "reasons": [{"level": r.level, "kind": r.kind, "text": r.text} for r in self.reasons],
            "latest": self.latest.as_dict() if self.latest else None,
        }


def _error_kind(status: int | None, reason: str | None) -> str:
    if status is not None and status >= 400:
        return f"HTTP {status}"
    head = (reason or "error").split(":", 1)[0].strip()
    return head or "error"


def daily_health(
    session: Session, *, since: date, until: date | None = None, source: str | None = None
) -> dict[str, list[SourceDay]]:
    """Each source's days from ``since`` to ``until`` (inclusive; default today), oldest first.

    Days without a crawl are absent, not zero: a source crawled weekly is not "down" between.
    """
    return {name: _by_day(runs) for name, runs in _runs(session, since=since, until=until, source=source).items()}


def _by_day(runs: list[SourceDay]) -> list[SourceDay]:
    days: dict[date, SourceDay] = {}
    for run in runs:
        day = days.setdefault(run.day, SourceDay(run.source, run.day))
        day.add(run)
    return list(days.values())


def _runs(session: Session, *, since: date, until: date | None, source: str | None) -> dict[str, list[SourceDay]]:
    """Each source's crawl runs in the span, as figures dated by the run's first fetch, oldest first."""
    start = datetime.combine(since, datetime.min.time(), UTC)
    end = datetime.combine(days_after(until or datetime.now(UTC).date(), 1), datetime.min.time(), UTC)
    stmt = (
        sa.select(
            CrawlRun.source,
            FetchLog.run_id,
            FetchLog.fetched_at,
            FetchLog.url,
            FetchLog.status,
            FetchLog.outcome,
            FetchLog.reason,
            Article.word_count,
            Article.title,
            Article.published_at,
            Article.authors,
            FetchLog.body_chars,
            FetchLog.template_chars,
        )
        .join(CrawlRun, CrawlRun.id == FetchLog.run_id)
        .outerjoin(Article, Article.id == FetchLog.article_id)
        # A run started up to a day before the window may have fetched inside it.
        .where(CrawlRun.started_at >= days_after(start, -1), CrawlRun.started_at < end)
        .where(FetchLog.fetched_at >= start, FetchLog.fetched_at < end, CrawlRun.source.is_not(None))
    )
    if source is not None:
        stmt = stmt.where(CrawlRun.source == source)
    runs: dict[int, SourceDay] = {}
    for row in session.execute(stmt.order_by(FetchLog.run_id, FetchLog.id)):
        run = runs.get(row.run_id)
        if run is None:
            run = runs[row.run_id] = SourceDay(row.source, row.fetched_at.astimezone(UTC).date())
        _count(run, row)
    by_source: dict[str, list[SourceDay]] = defaultdict(list)
    for _, run in sorted(runs.items(), key=lambda item: (item[1].day, item[0])):
        by_source[run.source].append(run)
    return dict(by_source)


def _count(day: SourceDay, row: Any) -> None:
    day.requests += 1
    reason = row.reason or ""
    outcome = row.outcome
    if outcome == "stored":
        day.stored += 1
        if row.word_count is not None:
            day.words.append(row.word_count)
            day.with_title += bool(row.title)
            day.with_date += row.published_at is not None
            day.with_author += bool(row.authors)
    elif outcome == "updated":
        day.updated += 1
    if outcome in ("stored", "updated") and row.template_chars is not None and row.body_chars:
        day.profiled += 1
        day.body_chars += row.body_chars
        day.template_chars += row.template_chars
    elif outcome == "error":
        kind = _error_kind(row.status, reason)
        day.errors[kind] += 1
        day.failed[row.url] = kind
    elif outcome == "skipped-by-robots":
        day.robots_refusals += 1
        day.failed[row.url] = "robots.txt"
    elif outcome == "not-an-article":
        if reason.startswith(_FEED_REASON):
            day.hubs_ok[row.url] = "feed"
        elif reason.startswith(_SITEMAP_REASONS):
            day.hubs_ok[row.url] = "sitemap"
        elif not reason.startswith(_HUB_REASONS):
            day.not_a_story += 1
            day.empty_bodies += reason.startswith(_EMPTY_BODY_REASONS)


def _when(day: date, today: date) -> str:
    return "today" if day == today else f"on {day.isoformat()}"


def assess(runs: list[SourceDay], thresholds: HealthThresholds, *, today: date | None = None) -> tuple[str, list[Reason]]:
    """The status of a source from its runs (oldest first).

    What breaks a source (every request failing, a feed gone, the text halved) is judged on its
    latest run against the runs before it; volume on its latest day against the days before.
    """
    if not runs:
        return "ok", []
    today = today or datetime.now(UTC).date()
    days = _by_day(runs)
    latest, history = runs[-1], runs[:-1]
    reasons = [
        *_failing_requests(latest, history, today),
        *_failing_hubs(latest, history),
        *_length_drop(latest, history, thresholds),
        *_volume(days[-1], days[:-1], thresholds, today),
        *_template_rise(days[-1], days[:-1], thresholds, today),
    ]
    status = "alert" if any(r.level == "alert" for r in reasons) else "warn" if reasons else "ok"
    return status, reasons


def _streak_start(latest: SourceDay, history: list[SourceDay], same: Any) -> date:
    start = latest.day
    for day in reversed(history):
        if not same(day):
            break
        start = day.day
    return start


def _failing_requests(latest: SourceDay, history: list[SourceDay], today: date) -> Iterable[Reason]:
    if not latest.requests or latest.failures < latest.requests:
        kinds = latest.errors
        if latest.requests >= 10 and sum(kinds.values()) * 2 > latest.requests:
            top = ", ".join(f"{kind} x{n}" for kind, n in kinds.most_common(3))
            yield Reason("warn", "errors", f"{sum(kinds.values())} of {latest.requests} requests failed {_when(latest.day, today)} ({top})")
        return
    kinds = Counter(latest.errors)
    if latest.robots_refusals:
        kinds["robots.txt refusal"] = latest.robots_refusals
    if len(kinds) == 1:
        [kind] = kinds
        def same(day: SourceDay) -> bool:
            return day.requests > 0 and set(day.failed.values()) == {("robots.txt" if kind == "robots.txt refusal" else kind)} and day.failures == day.requests
        since = _streak_start(latest, history, same)
        answer = "was refused by robots.txt" if kind == "robots.txt refusal" else f"answered {kind}"
        yield Reason("alert", f"every-request:{kind}", f"every request {answer} since {since.isoformat()}")
    else:
        top = ", ".join(f"{kind} x{n}" for kind, n in kinds.most_common(3))
        yield Reason("alert", "every-request", f"every request failed {_when(latest.day, today)} ({top})")


def _failing_hubs(latest: SourceDay, history: list[SourceDay]) -> Iterable[Reason]:
    known = {url: kind for day in history for url, kind in day.hubs_ok.items()}
    for url, failure in sorted(latest.failed.items()):
        hub_kind = known.get(url)
        if hub_kind is None or url in latest.hubs_ok:
            continue
        since = _streak_start(latest, history, lambda day, url=url: url in day.failed and url not in day.hubs_ok)
        answer = "was refused by robots.txt" if failure == "robots.txt" else f"answered {failure}"
        yield Reason("alert", f"{hub_kind}-failing:{url}", f"{hub_kind} {url} {answer} since {since.isoformat()}")


def _length_drop(latest: SourceDay, history: list[SourceDay], thresholds: HealthThresholds) -> Iterable[Reason]:
    before = [words for day in history for words in day.words]
    if len(latest.words) < thresholds.min_bodies or len(before) < thresholds.min_bodies:
        return
    usual = statistics.median(before)
    now = latest.median_words
    if usual > 0 and now <= usual * thresholds.length_drop:
        # The last day that still looked usual: the break came after it.
        last_usual = next(
            (day.day for day in reversed(history) if day.words and day.median_words > usual * thresholds.length_drop),
            history[0].day,
        )
        yield Reason(
            "alert", "length-drop", f"median words fell from {round(usual)} to {now} after {last_usual.isoformat()}"
        )


def _volume(latest: SourceDay, history: list[SourceDay], thresholds: HealthThresholds, today: date) -> Iterable[Reason]:
    window = [day for day in history if (latest.day - day.day).days <= thresholds.window_days]
    if len(window) < thresholds.min_history_days:
        return
    counts = [day.stored for day in window]
    mean = statistics.fmean(counts)
    # A count of stories varies at least as a Poisson count does: a band no narrower than sqrt(mean)
    # keeps a steady source with a quiet day out of the alerts (Media Cloud's band, floored).
    sigma = max(statistics.pstdev(counts), math.sqrt(mean), 1.0)
    band = f"{thresholds.window_days}-day mean {mean:.0f} ± {sigma:.0f}"
    low = mean - thresholds.low_sigma * sigma
    if latest.stored < low:
        previous_low = bool(window) and window[-1].stored < low
        level = "alert" if latest.stored == 0 or previous_low else "warn"
        yield Reason(level, "volume-low", f"stored {latest.stored} {_when(latest.day, today)}, {band}")
    elif latest.stored > mean + thresholds.high_sigma * sigma:
        yield Reason("warn", "volume-high", f"stored {latest.stored} {_when(latest.day, today)}, {band}")


def _template_rise(
    latest: SourceDay, history: list[SourceDay], thresholds: HealthThresholds, today: date
) -> Iterable[Reason]:
    """A warning, never an alert: the stored text is still stripped of the template."""
    window = [
        day for day in history if day.profiled and (latest.day - day.day).days <= thresholds.window_days
    ]
    if latest.profiled < thresholds.min_bodies or len(window) < thresholds.min_history_days:
        return
    usual = sum(day.template_chars for day in window) / sum(day.body_chars for day in window)
    now = latest.template_chars / latest.body_chars
    if now >= usual + thresholds.template_rise:
        yield Reason(
            "warn",
            "template-rise",
            f"site template took {now:.0%} of the text {_when(latest.day, today)}, "
            f"{thresholds.window_days}-day share {usual:.0%}",
        )


def source_health(
    session: Session,
    *,
    thresholds: HealthThresholds | None = None,
    source: str | None = None,
    since: date | None = None,
    today: date | None = None,
) -> list[SourceHealth]:
    """The verdict for each source crawled since ``since`` (default: the window before ``today``)."""
    thresholds = thresholds or HealthThresholds()
    today = today or datetime.now(UTC).date()
    first = since or days_after(today, -thresholds.window_days)
    # The band needs the window before the first day judged.
    runs_by_source = _runs(session, since=days_after(first, -thresholds.window_days), until=today, source=source)
    acks = {name: state for name, state in session.execute(sa.select(HealthAck.source, HealthAck.state))}
    found = []
    for name, runs in sorted(runs_by_source.items()):
        if runs[-1].day < first:
            continue
        status, reasons = assess(runs, thresholds, today=today)
        latest_day = _by_day(runs)[-1]
        health = SourceHealth(name, status, tuple(reasons), latest_day)
        acknowledged = status != "ok" and acks.get(name) == health.state
        found.append(SourceHealth(name, status, tuple(reasons), latest_day, acknowledged))
    return found


def acknowledge(session: Session, health: SourceHealth, at: datetime | None = None) -> None:
    """Silence this source's current state until it changes (a new reason, or a different status)."""
    values = {"source": health.source, "state": health.state, "acknowledged_at": at or datetime.now(UTC)}
    stmt = dialect_insert(session, HealthAck.__table__).values(values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["source"], set_={"state": stmt.excluded.state, "acknowledged_at": stmt.excluded.acknowledged_at}
        )
    )
