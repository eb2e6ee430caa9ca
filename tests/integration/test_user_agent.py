"""The User-Agent names newsdesk and, when the operator gives one, their contact; a crawl of a
site off this machine without a contact warns once. No made-up address is ever sent."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from support.loopback import PageServer

from crawler.middlewares import ContactUserAgent

REPO = Path(__file__).resolve().parents[2]
VERSION = importlib.metadata.version("newsdesk")


class OnePage(PageServer):
    def answer(self, raw_path):
        if raw_path == "/robots.txt":
            return "text/plain", b"User-agent: *\nAllow: /\n"
        return "text/html", b"<html><body><p>Nothing here.</p></body></html>"


def _crawl(site: OnePage, tmp_path: Path, *settings: str, env: dict[str, str] | None = None) -> None:
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"start_urls={site.base}/",
        "-s", f"NEWSDESK_DATABASE_URL=sqlite:///{tmp_path / 'ua.db'}", "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        *(part for setting in settings for part in ("-s", setting)),
    ]  # fmt: skip
    environment = {key: value for key, value in os.environ.items() if key != "NEWSDESK_CONTACT"}
    subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, env={**environment, **(env or {})})


@pytest.mark.parametrize(
    ("settings", "env", "expected"),
    [
        ((), {}, f"newsdesk/{VERSION}"),
        ((), {"NEWSDESK_CONTACT": "data-team@example.org"}, f"newsdesk/{VERSION} (+data-team@example.org)"),
        (("NEWSDESK_CONTACT=https://example.org/crawl",), {}, f"newsdesk/{VERSION} (+https://example.org/crawl)"),
        (("USER_AGENT=our-archive-bot/2",), {"NEWSDESK_CONTACT": "x@example.org"}, "our-archive-bot/2"),
    ],
    ids=["no-contact", "contact-from-env", "contact-from-setting", "own-user-agent"],
)
def test_every_request_carries_the_user_agent(tmp_path, settings, env, expected):
    with OnePage() as site:
        _crawl(site, tmp_path, *settings, env=env)
    # robots.txt and the page alike: one User-Agent for the whole crawl.
    assert site.user_agents == {expected}


def _agent(settings: dict, caplog, *urls: str) -> str:
    middleware = ContactUserAgent.from_crawler(get_crawler(settings_dict=settings))
    agents = set()
    with caplog.at_level(logging.WARNING, logger="crawler.middlewares"):
        for url in urls:
            request = Request(url)
            middleware.process_request(request)
            agents.add(request.headers[b"User-Agent"].decode())
    (agent,) = agents
    return agent


def test_a_site_off_this_machine_without_a_contact_warns_once(caplog):
    agent = _agent({}, caplog, "http://127.0.0.1:8000/", "http://news.example/a", "http://news.example/b", "http://other.example/")
    warnings = [r.getMessage() for r in caplog.records if "NEWSDESK_CONTACT" in r.getMessage()]
    assert agent == f"newsdesk/{VERSION}"
    assert len(warnings) == 1 and "news.example" in warnings[0]


@pytest.mark.parametrize("urls", [("http://127.0.0.1:8000/", "http://localhost/", "http://[::1]/")])
def test_loopback_crawls_and_crawls_with_a_contact_do_not_warn(caplog, urls):
    _agent({}, caplog, *urls)
    _agent({"NEWSDESK_CONTACT": "ops@example.org"}, caplog, "http://news.example/a")
    assert not [r for r in caplog.records if "NEWSDESK_CONTACT" in r.getMessage()]
