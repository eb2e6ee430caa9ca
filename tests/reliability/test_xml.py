"""Hostile XML in sitemaps and feeds: XXE, billion laughs, local paths, huge and self-listing indexes.

A secret file is written for the session; XXE payloads point at it. Afterwards every text column
of every table is read back: the secret must be nowhere (nor /etc/passwd's first line).
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from reliability_kit import HostileServer, article_html, assert_crawl_went_on, listing_html, own_index, run_crawl

pytestmark = pytest.mark.reliability

SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
LAUGHS = (
    '<!DOCTYPE {root} [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>"
)
INDEX_CAP, URL_CAP, FEED_CAP = 25, 10, 10


def _xml(handler, body: str, content_type: str = "application/xml") -> None:
    handler.send(200, body.encode(), content_type)


def make_routes(server: HostileServer, secret_path: str) -> dict:
    base = server.base_url
    xxe = f'<!DOCTYPE {{root}} [<!ENTITY xxe SYSTEM "file://{secret_path}">]>'

    def sitemap_case(case: str, document: str):
        def route(handler, rest: str) -> None:
            if rest == "sitemap.xml":
                return _xml(handler, document)
            if rest == "from-sitemap":
                return handler.send(200, article_html(case + "-sitemap", 900 + len(case)))
            handler.send(404)

        return route

    def feed_case(case: str, document: bytes, content_type: str = "application/rss+xml"):
        @own_index
        def route(handler, rest: str) -> None:
            if rest == "":
                head = '<link rel="alternate" type="application/rss+xml" href="feed.xml">'
                return handler.send(200, listing_html(["ok"], head=head))
            if rest == "feed.xml":
                return handler.send(200, document, content_type)
            handler.send(404)

        return route

    rss_items = "".join(f"<item><title>e{n}</title><link>{base}/c/feed-cap/e/{n}</link></item>" for n in range(500))

    def index_10k(handler, rest: str) -> None:
        if rest == "sitemap.xml":
            children = "".join(f"<sitemap><loc>{base}/c/index-10k/s/{n}.xml</loc></sitemap>" for n in range(10_000))
            return _xml(handler, f"<sitemapindex {SITEMAP_NS}>{children}</sitemapindex>")
        if rest.startswith("s/"):
            return _xml(handler, f"<urlset {SITEMAP_NS}><url><loc>{base}/c/index-10k/ok</loc></url></urlset>")
        handler.send(404)

    def self_index(handler, rest: str) -> None:
        if rest == "sitemap.xml":
            return _xml(
                handler,
                f"<sitemapindex {SITEMAP_NS}><sitemap><loc>{base}/c/self-index/sitemap.xml</loc></sitemap>"
                f"<sitemap><loc>{base}/c/self-index/child.xml</loc></sitemap></sitemapindex>",
            )
        if rest == "child.xml":
            return _xml(handler, f"<urlset {SITEMAP_NS}><url><loc>{base}/c/self-index/ok</loc></url></urlset>")
        handler.send(404)

    def sitemap_cap(handler, rest: str) -> None:
        if rest == "sitemap.xml":
            urls = "".join(f"<url><loc>{base}/c/sitemap-cap/p/{n}</loc></url>" for n in range(500))
            return _xml(handler, f"<urlset {SITEMAP_NS}>{urls}</urlset>")
        handler.send(404)

    return {
        "xxe-sitemap": sitemap_case(
            "xxe-sitemap",
            '<?xml version="1.0"?>' + xxe.format(root="urlset") + f"<urlset {SITEMAP_NS}>"
            f"<url><loc>{base}/c/xxe-sitemap/&xxe;</loc></url><url><loc>{base}/c/xxe-sitemap/from-sitemap</loc></url></urlset>",
        ),
        "laughs-sitemap": sitemap_case(
            "laughs-sitemap",
            '<?xml version="1.0"?>' + LAUGHS.format(root="urlset") + f"<urlset {SITEMAP_NS}>"
            f"<url><loc>{base}/c/laughs-sitemap/&lol9;</loc></url><url><loc>{base}/c/laughs-sitemap/from-sitemap</loc></url></urlset>",
        ),
        "xxe-rss": feed_case(
            "xxe-rss",
            (
                '<?xml version="1.0"?>' + xxe.format(root="rss") + '<rss version="2.0"><channel><title>&xxe;</title>'
                f"<item><title>&xxe;</title><link>{base}/c/xxe-rss/ok?&xxe;</link></item></channel></rss>"
            ).encode(),
        ),
        "xxe-atom": feed_case(
            "xxe-atom",
            (
                '<?xml version="1.0"?>' + xxe.format(root="feed") + '<feed xmlns="http://www.w3.org/2005/Atom">'
                f'<title>&xxe;</title><entry><title>&xxe;</title><link href="{base}/c/xxe-atom/&xxe;"/></entry></feed>'
            ).encode(),
            "application/atom+xml",
        ),
        "laughs-feed": feed_case(
            "laughs-feed",
            ('<?xml version="1.0"?>' + LAUGHS.format(root="rss") + '<rss version="2.0"><channel><title>&lol9;</title>'
             "</channel></rss>").encode(),
        ),  # fmt: skip
        "feed-local-path": feed_case("feed-local-path", secret_path.encode()),
        "feed-file-url": feed_case("feed-file-url", f"file://{secret_path}".encode()),
        "feed-etc-passwd": feed_case("feed-etc-passwd", b"/etc/passwd"),
        "feed-cap": feed_case("feed-cap", f'<rss version="2.0"><channel><title>t</title>{rss_items}</channel></rss>'.encode()),
        "index-10k": index_10k,
        "self-index": self_index,
        "sitemap-cap": sitemap_cap,
    }


SITEMAP_CASES = ["xxe-sitemap", "laughs-sitemap", "index-10k", "self-index", "sitemap-cap"]


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> tuple[str, str]:
    token = f"NEWSDESK-SECRET-{uuid.uuid4().hex}"
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text(token + "\n")
    return str(path), token


@pytest.fixture(scope="module")
def server(secret):
    with HostileServer() as main:
        main.routes.update(make_routes(main, secret[0]))
        main.sitemaps.extend(main.case_url(case, "sitemap.xml") for case in SITEMAP_CASES)
        yield main


@pytest.fixture(scope="module")
def crawl(server, tmp_path_factory):
    database_url = f"sqlite:///{tmp_path_factory.mktemp('xml') / 'crawl.db'}"
    starts = [server.case_url(case) for case in server.routes]
    settings = {
        "NEWSDESK_MAX_SITEMAPS_PER_INDEX": INDEX_CAP,
        "NEWSDESK_MAX_URLS_PER_SITEMAP": URL_CAP,
        "NEWSDESK_MAX_FEED_ENTRIES": FEED_CAP,
    }
    return run_crawl("xml", database_url, starts, settings)


def _row(crawl, url: str) -> tuple[str, str]:
    rows = [row for row in crawl.fetches() if row[0] == url]
    assert rows, f"{url} not in the crawl log"
    return rows[-1][2], rows[-1][3] or ""


def all_text(database_url: str) -> str:
    """Every text-like column of every table, as one string."""
    engine = sa.create_engine(database_url)
    chunks = []
    try:
        inspector = sa.inspect(engine)
        with engine.connect() as conn:
            for table in inspector.get_table_names():
                for column in inspector.get_columns(table):
                    if isinstance(column["type"], (sa.String, sa.Text, sa.JSON)) or "json" in str(column["type"]).lower():
                        for (value,) in conn.execute(sa.text(f'SELECT "{column["name"]}" FROM "{table}"')):
                            chunks.append(str(value))
    finally:
        engine.dispose()
    return "\n".join(chunks)


def test_xml_crawl_went_on(crawl, server):
    assert_crawl_went_on(crawl, server, list(server.routes))


def test_xxe_secret_is_nowhere_in_the_database_or_log(crawl, secret, results):
    dump = all_text(crawl.database_url)
    leaked = secret[1] in dump or secret[1] in crawl.stderr
    passwd = "root:x:0:0" in dump
    results.add("xml: XXE in sitemap, RSS, Atom; file paths", "secret in no column, no log", f"{len(dump):,} chars read, leaked={leaked or passwd}")
    assert not leaked and not passwd


@pytest.mark.parametrize("case", ["xxe-rss", "xxe-atom", "laughs-feed", "feed-local-path", "feed-file-url", "feed-etc-passwd"])
def test_hostile_feeds_are_refused(crawl, server, results, case):
    outcome, reason = _row(crawl, server.case_url(case, "feed.xml"))
    results.add(f"xml: {case}", "error (refused feed)", f"{outcome}: {reason[:70]}")
    assert outcome == "error"


@pytest.mark.parametrize("case", ["xxe-sitemap", "laughs-sitemap"])
def test_sitemaps_declaring_entities_are_refused(crawl, server, results, case):
    outcome, reason = _row(crawl, server.case_url(case, "sitemap.xml"))
    followed = server.hits_under(f"/c/{case}/from-sitemap")
    results.add(f"xml: {case}", "error (declares entities), nothing followed", f"{outcome}: {reason}, {followed} followed")
    assert (outcome, reason) == ("error", "sitemap declares XML entities")
    assert followed == 0


def test_sitemap_index_of_ten_thousand_is_capped(crawl, server, results):
    children = server.hits_under("/c/index-10k/s/")
    capped = int(crawl.stats().get("newsdesk/capped/sitemaps_per_index", 0))
    results.add("xml: sitemap index of 10,000", f"{INDEX_CAP} child fetches", f"{children} child fetches, {capped:,} cut (stats)")
    assert children == INDEX_CAP and capped == 10_000 - INDEX_CAP


def test_sitemap_index_listing_itself_is_fetched_once(crawl, server, results):
    index_hits = server.hits_under("/c/self-index/sitemap.xml")
    child_hits = server.hits_under("/c/self-index/child.xml")
    results.add("xml: sitemap index lists itself", "index fetched once", f"index {index_hits}x, child {child_hits}x")
    assert index_hits == 1 and child_hits == 1


@pytest.mark.parametrize(("case", "prefix", "cap", "stat"), [
    ("sitemap-cap", "/c/sitemap-cap/p/", URL_CAP, "urls_per_sitemap"),
    ("feed-cap", "/c/feed-cap/e/", FEED_CAP, "feed_entries"),
])  # fmt: skip
def test_urls_per_sitemap_and_feed_entries_are_capped(crawl, server, results, case, prefix, cap, stat):
    hits = server.hits_under(prefix)
    capped = int(crawl.stats().get(f"newsdesk/capped/{stat}", 0))
    results.add(f"xml: {case} (500 entries)", f"{cap} fetched", f"{hits} fetched, {capped} cut (stats)")
    assert hits == cap and capped == 500 - cap
