"""No error can hide: a fault in any crawl component fails the run, visibly.

A fault is injected into one component at a time (tests/support/faults.py, or a database trigger
for the writer) for one article of a small generated site. Each crawl must exit non-zero, settle
its run as ``finished-with-errors`` (the other articles were stored), and ``newsdesk runs show``
must name the URL and the error. A crawl whose every request is refused fails with one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

import crawler.settings as project
from crawler.demo.generated import GeneratedSite
from storage.db import open_database
from storage.runs import list_runs, run_fetches

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = 6
VICTIM = 3
FAULT_URL = rf"/news/{VICTIM}$"


def _crawl(database_url: str, start_url: str, *settings: str, command: str = "scrapy") -> subprocess.CompletedProcess:
    if command == "scrapy":
        head = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"start_urls={start_url}"]
    else:
        head = [sys.executable, "-m", "crawler.cli", "--db", database_url, "crawl", "--url", start_url]
    args = [
        "NEWSDESK_DATABASE_URL=" + database_url,
        "AUTOTHROTTLE_ENABLED=false",
        "NEWSDESK_EXTRACT_WORKERS=1",
        "TEST_FAULT_URL=" + FAULT_URL,
        *settings,
    ]
    if not any(setting.startswith("NEWSDESK_BLOCK_PRIVATE_ADDRESSES=") for setting in settings):
        args.append("NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false")
    command_line = [*head, *(part for setting in args for part in ("-s", setting))]
    return subprocess.run(command_line, cwd=REPO, capture_output=True, text=True, timeout=240)


def _runs_show(database_url: str, run_id: int | None) -> str:
    """``newsdesk runs show ID`` (``newsdesk runs`` when ``run_id`` is None), on a wide terminal."""
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "--db", database_url, "runs", *(("show", str(run_id)) if run_id else ())],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "400"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def _with(setting: str, base: dict[str, int], path: str, priority: int) -> str:
    return f"{setting}={json.dumps({**base, path: priority})}"


FAULTS = {
    "callback": ("SPIDER_MODULES=tests.support.faults",),
    "scheduler": ("SCHEDULER=tests.support.faults.FaultyScheduler",),
    "pipeline": (_with("ITEM_PIPELINES", project.ITEM_PIPELINES, "tests.support.faults.FaultyPipeline", 250),),
    "request": (
        _with("DOWNLOADER_MIDDLEWARES", project.DOWNLOADER_MIDDLEWARES, "tests.support.faults.FaultyDownloaderMiddleware", 60),
    ),
    "writer": (),  # a database trigger, below
    "extraction": (_with("EXTENSIONS", project.EXTENSIONS, "tests.support.faults.FaultyExtraction", 600),),
}


@pytest.mark.parametrize("component", list(FAULTS))
def test_a_fault_in_a_component_fails_the_run_with_its_url_and_error(component, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'faults.db'}"
    sessions = open_database(database_url)
    if component == "writer":
        with sessions.begin() as session:
            session.execute(
                sa.text(
                    f"CREATE TRIGGER injected_writer_fault BEFORE INSERT ON articles WHEN NEW.canonical_url LIKE "
                    f"'%/news/{VICTIM}' BEGIN SELECT RAISE(ABORT, 'injected writer fault'); END"
                )
            )
    with GeneratedSite(pages=PAGES) as site:
        crawl = _crawl(database_url, site.base_url + "/", *FAULTS[component])
        victim = site.article_url(VICTIM)
    with sessions() as session:
        (run,) = list_runs(session)
        errors = [f for f in run_fetches(session, run.id, outcome="error") if f.url == victim]
        stored = {f.url for f in run_fetches(session, run.id, outcome="stored")}
    assert crawl.returncode != 0, crawl.stderr[-3000:]
    assert run.status == "finished-with-errors", (run.status, run.error)
    assert stored == {site.article_url(n) for n in range(1, PAGES + 1)} - {victim}
    expected = f"injected {'downloader middleware' if component == 'request' else component} fault"
    assert errors and expected in errors[0].reason, [f.reason for f in errors]
    assert expected in (run.error or "") and victim in run.error
    # The error is logged with its URL, and visible in the run's summary and crawl log.
    assert any(victim in line and expected in line for line in crawl.stderr.splitlines()), crawl.stderr[-3000:]
    shown = _runs_show(database_url, run.id)
    assert "finished-with-errors" in shown and victim in shown and expected in shown


@pytest.mark.parametrize(
    ("setting", "fault"),
    [
        (_with("ITEM_PIPELINES", project.ITEM_PIPELINES, "tests.support.faults.FaultyAsyncioCallback", 250),
         "injected asyncio callback fault"),
        (_with("ITEM_PIPELINES", project.ITEM_PIPELINES, "tests.support.faults.FaultyDeferred", 250),
         "injected unhandled Deferred fault"),
        (_with("EXTENSIONS", project.EXTENSIONS, "tests.support.faults.FaultySignalHandler", 600),
         "injected signal handler fault"),
    ],
    ids=["asyncio-callback", "deferred", "signal-handler"],
)  # fmt: skip
def test_an_error_no_code_waits_for_fails_the_run(setting, fault, tmp_path):
    """asyncio's "Exception in callback", Twisted's "Unhandled error in Deferred" and an error in a
    signal handler (which Scrapy only logs) have no URL, and still fail the run."""
    database_url = f"sqlite:///{tmp_path / 'unhandled.db'}"
    with GeneratedSite(pages=PAGES) as site:
        crawl = _crawl(database_url, site.base_url + "/", setting)
    with open_database(database_url)() as session:
        (run,) = list_runs(session)
    assert crawl.returncode != 0, crawl.stderr[-3000:]
    assert run.status == "finished-with-errors" and fault in run.error
    assert run.counts["exceptions"] == 1


@pytest.mark.parametrize("command", ["scrapy", "newsdesk"])
def test_a_crawl_whose_every_request_is_refused_fails_with_one_line(command, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'refused.db'}"
    with GeneratedSite(pages=PAGES) as site:
        crawl = _crawl(database_url, site.base_url + "/", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=true", command=command)
        hits = site.hits
    with open_database(database_url)() as session:
        (run,) = list_runs(session)
    assert hits == 0
    assert crawl.returncode != 0, crawl.stderr[-3000:]
    assert run.status == "failed" and run.counts["refused"] >= 1
    assert run.error.startswith("no page could be fetched (") and "refused" in run.error and "\n" not in run.error
    if command == "newsdesk":
        last = crawl.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: crawl of ") and "failed: no page could be fetched" in last
        assert "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false" in last  # the way out, in the one line a user reads
    shown = _runs_show(database_url, run.id)
    assert run.error in shown
    # Refused requests are counted under their own name in both summaries, never folded into errors.
    refused = f"{run.counts['refused']} refused"
    assert refused in shown and refused in _runs_show(database_url, None)


def test_a_clean_crawl_finishes_and_exits_zero(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'clean.db'}"
    with GeneratedSite(pages=PAGES) as site:
        crawl = _crawl(database_url, site.base_url + "/")
    with open_database(database_url)() as session:
        (run,) = list_runs(session)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert (run.status, run.error, run.counts["stored"], run.counts["exceptions"]) == ("finished", None, PAGES, 0)
