"""Source health from the crawl log: simulated weeks of crawling written through the real write
path (runs, articles, the fetch log), judged day by day, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

from click.testing import CliRunner

from crawler.cli import cli
from storage import health
from storage.articles import ArticleIn, store_article
from storage.db import open_database
from storage.runs import finish_run, record_fetches, start_run

FIRST_DAY = date(2026, 11, 1)
WORDS = "the council met on tuesday to weigh a plan for the harbour and its new ferry line".split()


def story_text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) + str(rng.randrange(10**6)) for _ in range(words))


def crawl_day(
    session,
    day: date,
    *,
    source: str = "steady",
    stories: int,
    words: int = 600,
    rng: random.Random,
    feed_status: int = 200,
    errors: int = 0,
    template_share: float | None = None,
    feed: str | None = None,
) -> None:
    """One day's crawl of a site with a feed: its run, its stories stored, its crawl log.

    ``template_share``: about this share of each story's text was stripped as site template (as the
    writer logs it once the source's profile matured); None, as before a profile matured.
    """
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=6)
    run_id = start_run(session, source, started_at=at)
    rows = []
    feed = feed or f"https://{source}.example/feed.xml"
    if feed_status == 200:
        rows.append({"url": feed, "status": 200, "bytes": 900, "outcome": "not-an-article",
                     "reason": f"feed listing {stories} entries in scope", "fetched_at": at})  # fmt: skip
    else:
        rows.append({"url": feed, "status": feed_status, "bytes": 0, "outcome": "error",
                     "reason": f"HTTP {feed_status}", "fetched_at": at})  # fmt: skip
    for number in range(stories):
        url = f"https://{source}.example/{day.isoformat()}/{number}"
        length = max(50, int(rng.gauss(words, words * 0.15)))
        stored = store_article(
            session,
            ArticleIn(
                source=source, url=url, canonical_url=url, title=f"Story {number}", text=story_text(rng, length),
                authors=("A. Writer",), published_at=at, modified_at=None, language="en", description=None,
                section=None, tags=(), image_url=None, word_count=length, fetched_at=at,
            ),
        )  # fmt: skip
        row = {"url": url, "status": 200, "bytes": 5000, "outcome": stored.outcome,
               "article_id": stored.article_id, "fetched_at": at}  # fmt: skip
        if template_share is not None:
            row["body_chars"] = body_chars = length * 8
            row["template_chars"] = round(body_chars * min(0.9, max(0.0, rng.gauss(template_share, 0.05))))
        rows.append(row)
    for number in range(errors):
        rows.append({"url": f"https://{source}.example/broken/{day}/{number}", "status": 403, "bytes": 0,
                     "outcome": "error", "reason": "HTTP 403", "fetched_at": at})  # fmt: skip
    record_fetches(session, run_id, rows)
    finish_run(session, run_id, status="finished", counts={"stored": stories}, finished_at=at)


def verdicts_each_day(sessions, days: int) -> list[tuple[date, str, list[str]]]:
    found = []
    with sessions() as session:
        for offset in range(days):
            today = FIRST_DAY + timedelta(days=offset)
            [entry] = health.source_health(session, today=today)
            found.append((today, entry.status, [reason.text for reason in entry.reasons]))
    return found


def test_a_steady_site_stays_ok_for_30_days(database_url):
    """No alert fatigue: a site publishing 38 to 43 stories a day, of usual lengths, with its template
    taking 10 to 25 % of their text (more on some days than others), is never flagged."""
    sessions = open_database(database_url)
    rng = random.Random(7)
    with sessions.begin() as session:
        for offset in range(30):
            share = rng.uniform(0.1, 0.25)
            day = FIRST_DAY + timedelta(days=offset)
            crawl_day(session, day, stories=rng.randint(38, 43), rng=rng, template_share=share)
    verdicts = verdicts_each_day(sessions, 30)
    assert [(day, status, why) for day, status, why in verdicts if status != "ok"] == []


def test_a_noisy_site_gets_no_alert_in_30_days(database_url):
    """Counts that vary as a Poisson count does (mean 40, sd about 6): at worst a warning on a quiet day."""
    sessions = open_database(database_url)
    rng = random.Random(11)
    with sessions.begin() as session:
        for offset in range(30):
            count = sum(rng.random() < 0.5 for _ in range(80))
            crawl_day(session, FIRST_DAY + timedelta(days=offset), stories=count, rng=rng)
    verdicts = verdicts_each_day(sessions, 30)
    assert [(day, why) for day, status, why in verdicts if status == "alert"] == []


def steady_weeks(session, rng: random.Random, days: int = 14) -> None:
    for offset in range(days):
        crawl_day(session, FIRST_DAY + timedelta(days=offset), stories=40, words=640, rng=rng)


def test_volume_below_the_band_alerts_with_the_figures(database_url):
    sessions = open_database(database_url)
    rng = random.Random(3)
    with sessions.begin() as session:
        steady_weeks(session, rng)
        crawl_day(session, FIRST_DAY + timedelta(days=14), stories=3, words=640, rng=rng)
        crawl_day(session, FIRST_DAY + timedelta(days=15), stories=2, words=640, rng=rng)
    with sessions() as session:
        quiet = FIRST_DAY + timedelta(days=14)
        [first] = health.source_health(session, today=quiet)
        [second] = health.source_health(session, today=quiet + timedelta(days=1))
    # One quiet day is a warning; the second in a row is an alert.
    assert first.status == "warn"
    assert [r.text for r in first.reasons] == ["stored 3 today, 28-day mean 40 ± 6"]
    assert second.status == "alert"
    assert second.reasons[0].text.startswith("stored 2 today, 28-day mean 3")


def test_median_length_halved_alerts_with_the_day_it_broke(database_url):
    sessions = open_database(database_url)
    rng = random.Random(5)
    with sessions.begin() as session:
        steady_weeks(session, rng, days=3)
        crawl_day(session, FIRST_DAY + timedelta(days=3), stories=40, words=200, rng=rng)
    with sessions() as session:
        [entry] = health.source_health(session, today=FIRST_DAY + timedelta(days=3))
    assert entry.status == "alert"
    [reason] = entry.reasons
    assert reason.kind == "length-drop"
    assert reason.text.startswith("median words fell from 6")
    assert reason.text.endswith(f"after {FIRST_DAY + timedelta(days=2)}")


def test_every_request_answering_403_alerts_since_the_first_day(database_url):
    sessions = open_database(database_url)
    rng = random.Random(9)
    with sessions.begin() as session:
        crawl_day(session, FIRST_DAY, stories=30, rng=rng)
        for offset in (1, 2):
            crawl_day(session, FIRST_DAY + timedelta(days=offset), stories=0, errors=20, feed_status=403, rng=rng)
    with sessions() as session:
        [entry] = health.source_health(session, today=FIRST_DAY + timedelta(days=2))
    texts = [reason.text for reason in entry.reasons]
    assert entry.status == "alert"
    assert f"every request answered HTTP 403 since {FIRST_DAY + timedelta(days=1)}" in texts


def test_daily_figures(database_url):
    sessions = open_database(database_url)
    rng = random.Random(1)
    with sessions.begin() as session:
        crawl_day(session, FIRST_DAY, stories=5, errors=2, rng=rng)
    with sessions() as session:
        [day] = health.daily_health(session, since=FIRST_DAY, until=FIRST_DAY)["steady"]
    figures = day.as_dict()
    assert figures["requests"] == 8  # the feed, 5 stories, 2 errors
    assert (figures["stored"], figures["errors"], figures["not_a_story"]) == (5, {"HTTP 403": 2}, 0)
    assert figures["share_with_title"] == figures["share_with_author"] == 1.0
    assert 400 < figures["median_words"] < 800


def test_a_sharp_rise_in_template_share_warns_with_the_shares(database_url):
    """A site that starts gluing far more boxes into its stories: a warning (never an alert), once a
    week of measured days shows what its usual share is; the CLI shows the share in both formats."""
    sessions = open_database(database_url)
    rng = random.Random(13)
    today = datetime.now(UTC).date()
    with sessions.begin() as session:
        for offset in range(10, 0, -1):
            crawl_day(session, today - timedelta(days=offset), stories=40, words=640, rng=rng, template_share=0.15)
        crawl_day(session, today, stories=40, words=640, rng=rng, template_share=0.45)
    with sessions() as session:
        [entry] = health.source_health(session)
        [short_history] = health.source_health(session, thresholds=health.HealthThresholds(min_history_days=11))
    assert entry.status == "warn"
    [reason] = entry.reasons
    assert reason.kind == "template-rise"
    assert reason.text.startswith("site template took 4") and reason.text.endswith("28-day share 15%")
    assert 0.4 < entry.latest.template_share < 0.5
    assert short_history.status == "ok"  # too few measured days to know the usual share

    runner = CliRunner()
    result = runner.invoke(cli, ["--db", database_url, "health", "--format", "json"])
    assert result.exit_code == 0, result.output  # a warning does not fail cron
    [shown] = json.loads(result.output)
    assert shown["latest"]["template_share"] == entry.latest.template_share
    table = runner.invoke(cli, ["--db", database_url, "health"], terminal_width=200)
    assert f"{entry.latest.template_share:.0%}" in table.output and "site template took" in table.output


def test_template_share_is_unmeasured_before_a_profile_matured(database_url):
    sessions = open_database(database_url)
    rng = random.Random(17)
    with sessions.begin() as session:
        crawl_day(session, FIRST_DAY, stories=5, rng=rng)
    with sessions() as session:
        [day] = health.daily_health(session, since=FIRST_DAY, until=FIRST_DAY)["steady"]
    assert day.as_dict()["template_share"] is None


def test_cli_exits_1_on_alert_and_ack_silences_until_the_state_changes(database_url, monkeypatch):
    sessions = open_database(database_url)
    rng = random.Random(2)
    today = datetime.now(UTC).date()
    with sessions.begin() as session:
        for offset in range(3, 0, -1):
            crawl_day(session, today - timedelta(days=offset), source="fading", stories=30, words=640, rng=rng)
        crawl_day(session, today, source="fading", stories=30, words=640, rng=rng, feed_status=410)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", database_url, "health", "--format", "json"])
    assert result.exit_code == 1, result.output
    [entry] = json.loads(result.output)
    assert entry["status"] == "alert"
    assert entry["reasons"][0]["text"] == f"feed https://fading.example/feed.xml answered HTTP 410 since {today}"

    acked = runner.invoke(cli, ["--db", database_url, "health", "--ack", "fading"])
    assert acked.exit_code == 0, acked.output
    silenced = runner.invoke(cli, ["--db", database_url, "health", "--format", "json"])
    assert silenced.exit_code == 0
    assert json.loads(silenced.output)[0]["acknowledged"] is True

    # A new finding is a new state: the acknowledgement no longer covers it.
    with sessions.begin() as session:
        crawl_day(session, today, source="fading", stories=40, words=60, rng=rng, feed_status=410)
    changed = runner.invoke(cli, ["--db", database_url, "health"])
    assert changed.exit_code == 1
    assert "median words fell" in changed.output


def test_health_since_the_first_day_of_the_calendar_is_a_bound_not_a_crash(database_url):
    from datetime import date

    from storage.db import open_database
    from storage.health import source_health

    sessions = open_database(database_url)
    with sessions() as session:
        assert source_health(session, since=date(1, 1, 1), today=date(9999, 12, 31)) == []
