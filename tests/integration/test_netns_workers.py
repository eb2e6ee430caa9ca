"""Crawl processes on two machines of their own sharing one PostgreSQL frontier.

Two network namespaces, each with its own address, link and host name, stand in for two machines:
in each, ``newsdesk crawl --workers 2`` with the same ``--db`` joins one crawl, reaching the sites
and PostgreSQL across a veth link. Together they fetch every page once and store every story once,
keep a slow site's pace as one polite crawler would (its concurrency, its Crawl-delay, one
robots.txt), and the run records name both machines. Skips, with the reason, where namespaces
cannot be made.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url
from support.netns import Namespaces, TcpRelay, why_no_namespaces
from support.stories import duplicate_stories
from support.timed_hosts import TimedHost
from test_shared_politeness import TOLERANCE, most_at_once

from crawler.demo.generated import GeneratedSite

from test_leases import REPO, article_fetches, query

MACHINES = ("newsdesk-a", "newsdesk-b")
CONCURRENCY = 2
CRAWL_DELAY = 0.8


@pytest.fixture
def namespaces():
    reason = why_no_namespaces()
    if reason:
        pytest.skip(reason)
    with Namespaces(len(MACHINES)) as net:
        yield net


def test_workers_on_two_machines_share_one_crawl_across_the_link(postgres_url, namespaces, tmp_path):
    pages = 60
    url = make_url(postgres_url)
    with (
        TcpRelay(namespaces.gateway, (url.host or "127.0.0.1", url.port or 5432)) as relay,
        GeneratedSite(pages=pages, host=namespaces.gateway) as site,
        TimedHost(
            0, stories=10, hold=1.5, address=namespaces.gateway,
            robots=f"User-agent: *\nCrawl-delay: {CRAWL_DELAY}\nAllow: /\n",
        ) as slow,
    ):
        # Seen from a namespace, the database is at the bridge's address, across the link.
        remote_db = url.set(host=namespaces.gateway, port=relay.port).render_as_string(hide_password=False)
        command = [
            sys.executable, "-m", "crawler.cli", "--db", remote_db, "crawl", "--source", "shared",
            "--url", f"{site.base_url}/", "--url", f"{slow.base_url}/", "--workers", "2", "--no-progress",
            "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false", "-s", "AUTOTHROTTLE_ENABLED=false",
            "-s", "NEWSDESK_EXTRACT_WORKERS=1", "-s", "NEWSDESK_FRONTIER_BATCH=4", "-s", "DOWNLOAD_DELAY=0.05",
            "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}", "-s", f"NEWSDESK_ARCHIVE_DIR={tmp_path / 'archive'}",
        ]  # fmt: skip
        machines = [
            namespaces.popen(k, name, command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for k, name in enumerate(MACHINES)
        ]
        outputs = []
        for machine in machines:
            try:
                outputs.append(machine.communicate(timeout=240))
            except subprocess.TimeoutExpired:
                machine.kill()
                raise
        for machine, (_, stderr) in zip(machines, outputs, strict=True):
            assert machine.returncode == 0, stderr[-3000:]
        clients = dict(site.clients)
        arrivals = sorted(slow.arrivals, key=lambda a: a.arrived)

    # Every request came across a link, from both machines' own addresses.
    assert set(clients) == set(namespaces.addresses)
    workers = [worker for (worker,) in query(postgres_url, "SELECT worker FROM crawl_runs WHERE worker IS NOT NULL")]
    assert {worker.split(":")[0] for worker in workers} == set(MACHINES)
    assert len(workers) == 4
    assert {status for (status,) in query(postgres_url, "SELECT status FROM crawl_runs")} == {"finished"}
    fetches = {url: n for url, n in article_fetches(postgres_url).items() if url.startswith(site.base_url)}
    assert len(fetches) == pages and max(fetches.values()) == 1
    assert query(postgres_url, "SELECT count(*) FROM articles")[0][0] == pages + slow.stories
    # Four processes on two machines, one pace for the slow site.
    assert len({a.path for a in arrivals if a.path.startswith("/news/")}) == slow.stories
    assert [a.path for a in arrivals].count("/robots.txt") == 1
    assert most_at_once(arrivals) <= CONCURRENCY
    gap = min(later.arrived - earlier.arrived for earlier, later in zip(arrivals, arrivals[1:]))
    assert gap >= CRAWL_DELAY - TOLERANCE
    assert duplicate_stories(postgres_url) == 0
