"""storage.hosts: the per-host table every crawl process consults before a request starts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from storage import frontier, hosts
from storage.db import open_database
from storage.models import Host, HostFetch

HOST = "news.example:8080"


@pytest.fixture
def sessions(database_url):
    return open_database(database_url)


def start(sessions, owner="a:1:1", *, host=HOST, delay=0.0, concurrency=2, timeout=60.0) -> hosts.Admission:
    with sessions.begin() as session:
        return hosts.try_start(session, host, owner=owner, delay=delay, concurrency=concurrency, timeout=timeout)


def test_a_start_waits_for_the_delay_after_any_processs_start(sessions):
    assert start(sessions, "a:1:1", delay=10).fetch_id is not None
    second = start(sessions, "b:2:2", delay=10)
    assert second.fetch_id is None and 9 < second.wait <= 10


def test_robots_crawl_delay_raises_the_floor(sessions):
    with sessions.begin() as session:
        hosts.store_robots(session, HOST, status=200, body=b"", error=None, crawl_delay=20.0)
    assert start(sessions, delay=1).fetch_id is not None
    assert 19 < start(sessions, delay=1).wait <= 20


def test_no_more_than_the_concurrency_at_once_and_a_finished_request_frees_its_slot(sessions):
    first = start(sessions, "a:1:1", concurrency=1)
    refused = start(sessions, "b:2:2", concurrency=1)
    assert first.fetch_id is not None and refused.fetch_id is None
    with sessions.begin() as session:
        hosts.finish(session, [first.fetch_id])
    assert start(sessions, "b:2:2", concurrency=1).fetch_id is not None


def test_the_slot_of_a_process_that_died_frees_itself_when_it_expires(sessions):
    assert start(sessions, "dead:1:1", concurrency=1, timeout=-1).fetch_id is not None
    assert start(sessions, "b:2:2", concurrency=1).fetch_id is not None


def test_a_retry_after_pause_holds_every_process(sessions):
    assert start(sessions, "a:1:1").fetch_id is not None
    with sessions.begin() as session:
        hosts.pause(session, HOST, 30)
        hosts.pause(session, HOST, 5)  # a shorter pause does not cut the longer one
    waiting = start(sessions, "b:2:2")
    assert waiting.fetch_id is None and 29 < waiting.wait <= 30


def test_robots_txt_is_fetched_by_one_process_and_reused_by_the_others(sessions):
    def claim(owner, keep=3600.0):
        with sessions.begin() as session:
            return hosts.claim_robots(session, HOST, owner=owner, keep_seconds=keep, claim_seconds=60)

    assert claim("a:1:1").fetch
    other = claim("b:2:2")
    assert not other.fetch and other.wait > 0
    with sessions.begin() as session:
        hosts.store_robots(session, HOST, status=200, body=b"User-agent: *\nDisallow: /x\n", error=None, crawl_delay=None)
    reused = claim("b:2:2")
    assert not reused.fetch and reused.status == 200 and reused.body.startswith(b"User-agent")
    assert claim("c:3:3", keep=0).fetch  # expired: asked again, by one


def test_a_lease_hands_out_only_the_slots_other_processes_leave_free(sessions):
    sites = ("http://busy.example/", "http://free.example/", "http://paused.example/")
    with sessions.begin() as session:
        for site in sites:
            frontier.add_urls(session, "s", [frontier.FrontierUrl(f"{site}{n}") for n in range(4)], run_id=1)
        hosts.pause(session, "paused.example", 30)
    assert start(sessions, "other:1:1", host="busy.example", concurrency=2).fetch_id is not None
    with sessions.begin() as session:
        leased = frontier.lease(session, "s", owner="me:2:2", limit=12, lease_seconds=60, host_slots=True)
    taken = {site: sum(row.url.startswith(site) for row in leased) for site in sites}
    # busy: 2 slots, 1 held by another process; free: nobody else fetches it; paused: none.
    assert taken == {sites[0]: 1, sites[1]: 4, sites[2]: 0}


def test_a_live_process_renews_its_slots_and_a_killed_one_frees_them_within_a_lease(sessions):
    live = start(sessions, "live:1:1", concurrency=2, timeout=0.2)
    dead = start(sessions, "dead:2:2", concurrency=2, timeout=0.2)
    with sessions.begin() as session:
        assert hosts.renew(session, "live:1:1", lease_seconds=60) == 1  # the live one's heartbeat
        hosts.claim_robots(session, HOST, owner="live:1:1", keep_seconds=0, claim_seconds=0.2)
        hosts.renew(session, "live:1:1", lease_seconds=60)
    assert live.fetch_id is not None and dead.fetch_id is not None
    with sessions.begin() as session:  # past the unrenewed rows' life: the dead one's slot is free
        for row in [*session.scalars(sa.select(HostFetch)), *session.scalars(sa.select(Host))]:
            for field in ("expires_at", "robots_claimed_until"):
                if getattr(row, field, None) is not None:
                    setattr(row, field, getattr(row, field) - timedelta(seconds=1))
    assert start(sessions, "b:3:3", concurrency=2).fetch_id is not None
    assert start(sessions, "c:4:4", concurrency=2).fetch_id is None  # the live one still holds its own
    with sessions.begin() as session:
        assert not hosts.claim_robots(session, HOST, owner="b:3:3", keep_seconds=0, claim_seconds=60).fetch
