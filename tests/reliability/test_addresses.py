"""Forbidden addresses with the private-address guard on, and start URLs that are not http(s).

No traffic leaves loopback here. Cloud-metadata and 10.x targets are checked in process, through
the real middlewares and spider callbacks; the crawls with the guard on use loopback targets only,
on listeners that count every hit (127.0.0.2 for "the internal service").
"""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from reliability_kit import RESULTS, HostileServer, listing_html, run_crawl
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawler.cli import cli
from crawler.middlewares import PrivateAddressGuard, RefusedAddress
from crawler.politeness import RedirectScope
from crawler.spiders.news import NewsSpider

pytestmark = pytest.mark.reliability

FORBIDDEN = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/sitemap.xml",
    "http://[::1]/feed.xml",
    "http://127.0.0.2:{port}/internal",
    "http://localhost/admin",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://[fd00::1]/",
]


@pytest.fixture(scope="module")
def internal():
    """An "internal service" on 127.0.0.2 that counts every request that reaches it."""
    with HostileServer(host="127.0.0.2") as server:
        yield server


@pytest.fixture
def spider_and_guard():
    crawler = get_crawler(
        NewsSpider,
        {
            "NEWSDESK_BLOCK_PRIVATE_ADDRESSES": True,
            "EXTENSIONS": {"crawler.components.run.CrawlRun": 0},
            # Pages read inline: no crawl starts the worker pool here.
            "NEWSDESK_EXTRACT_WORKERS": 1,
        },
    )
    spider = NewsSpider.from_crawler(crawler, start_urls="https://news.example/")
    crawler.spider = spider
    return spider, PrivateAddressGuard.from_crawler(crawler), crawler


def _refused(guard: PrivateAddressGuard, url: str) -> bool:
    try:
        asyncio.run(guard.process_request(Request(url)))
    except RefusedAddress:
        return True
    return False


async def _outputs(callback_output) -> list:
    return [out async for out in callback_output]


def test_guard_refuses_every_forbidden_target(spider_and_guard, internal, results):
    _, guard, _ = spider_and_guard
    urls = [url.format(port=internal.server_address[1]) for url in FORBIDDEN]
    refused = [url for url in urls if _refused(guard, url)]
    results.add("address: guard on 8 forbidden targets", "all refused, 0 hits", f"{len(refused)}/{len(urls)} refused, {internal.hits_under('/')} hits")
    RESULTS.forbidden_requests += internal.hits_under("/")
    assert refused == urls
    assert not _refused(guard, "http://93.184.216.34/")  # a public address passes (nothing is fetched here)


def test_robots_sitemap_lines_and_feed_links_to_forbidden_hosts_are_not_followed(spider_and_guard, internal, results):
    spider, guard, _ = spider_and_guard
    port = internal.server_address[1]
    targets = [url.format(port=port) for url in FORBIDDEN]
    robots = "User-agent: *\n" + "".join(f"Sitemap: {url}\n" for url in targets)
    robots_url = "https://news.example/robots.txt"
    robots_response = TextResponse(robots_url, body=robots.encode(), encoding="utf-8", request=Request(robots_url))
    from_robots = [out for out in spider.parse_robots(robots_response) if isinstance(out, Request)]
    head = "".join(f'<link rel="alternate" type="application/rss+xml" href="{url}">' for url in targets)
    page = HtmlResponse(
        "https://news.example/",
        body=listing_html([*targets, "https://news.example/story"], head=head),
        encoding="utf-8",
        request=Request("https://news.example/", meta={"depth": 0}),
    )
    from_page = [out for out in asyncio.run(_outputs(spider.parse_page(page))) if isinstance(out, Request)]
    leaked = [r.url for r in [*from_robots, *from_page] if r.url in targets and not _refused(guard, r.url)]
    followed = sorted({r.url for r in [*from_robots, *from_page]})
    results.add(
        "address: robots Sitemap: + feed links + links",
        "none followed (scope), guard refuses",
        f"requests made: {followed}, leaked past guard: {len(leaked)}",
    )
    assert followed == ["https://news.example/story"]
    assert not leaked and internal.hits_under("/") == 0


def test_redirect_to_forbidden_hosts_is_refused_before_any_connection(spider_and_guard, internal, results):
    spider, guard, crawler = spider_and_guard
    redirect = RedirectMiddleware.from_crawler(crawler)
    scope = RedirectScope.from_crawler(crawler)
    outcomes = []
    for target in (url.format(port=internal.server_address[1]) for url in FORBIDDEN):
        request = Request("https://news.example/story")
        response = Response(request.url, status=302, headers={"Location": target}, request=request)
        follow = redirect.process_response(request, response)
        assert isinstance(follow, Request) and follow.url.rstrip("/") == target.rstrip("/")
        with pytest.raises(IgnoreRequest):
            scope.process_request(follow)  # out of the crawl's scope
        outcomes.append(_refused(guard, follow.url))  # and the guard refuses it on its own
    results.add("address: redirect to forbidden hosts", "refused (scope and guard), 0 hits", f"{sum(outcomes)}/{len(outcomes)} refused by guard, {internal.hits_under('/')} hits")
    assert all(outcomes) and internal.hits_under("/") == 0


def test_crawl_with_guard_on_sends_nothing_to_loopback(internal, tmp_path, results):
    database_url = f"sqlite:///{tmp_path / 'guard.db'}"
    port = internal.server_address[1]
    starts = [f"http://127.0.0.2:{port}/c/start/", f"http://[::1]:{port}/c/start/", f"http://localhost:{port}/c/start/"]
    # Every request refused: the crawl fetched nothing, so it fails (exit 1) with a one-line reason.
    crawl = run_crawl("guard on", database_url, starts, {"NEWSDESK_BLOCK_PRIVATE_ADDRESSES": "true"}, fault_expected=True)
    outcomes = {row[2] for row in crawl.fetches()}
    hits = internal.hits_under("/")
    RESULTS.forbidden_requests += hits
    results.add("address: crawl, guard on, loopback start URLs", "refused, 0 hits", f"outcomes {sorted(outcomes)}, {hits} hits")
    assert crawl.returncode == 1 and "failed: no page could be fetched" in crawl.stderr, crawl.stderr[-2000:]
    assert outcomes == {"refused"} and hits == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/html,<h1>hi</h1>", "ftp://127.0.0.1/pub/", "javascript:alert(1)", "http:///nohost"])
def test_cli_rejects_start_urls_that_are_not_http(url, tmp_path, results):
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'cli.db'}", "crawl", "--url", url])
    message = result.output.strip()
    results.add(f"address: newsdesk crawl --url {url[:22]}", "one-line error, exit != 0", f"exit {result.exit_code}: {message.splitlines()[-1][:60] if message else ''}")
    assert result.exit_code != 0
    errors = [line for line in message.splitlines() if line.startswith("Error:")]
    assert "Traceback" not in message  # click's usage hint, then one error line
    assert len(errors) == 1 and "not an http(s) URL" in errors[0]
