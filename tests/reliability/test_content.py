"""Bodies that lie or break: PDFs, NUL bytes, broken markup, wrong charsets, empty pages, paywalls.

The crawl writes to PostgreSQL when ``NEWSDESK_TEST_POSTGRES_URL`` is set (as in CI: NUL bytes
and bad encodings fail there, not on SQLite), else to SQLite.
"""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from reliability_kit import HostileServer, crawl_database, article_html, assert_crawl_went_on, run_crawl

pytestmark = pytest.mark.reliability

RUSSIAN_WORDS = (
    "город совет жители новости мост река школа больница выборы бюджет рынок улица музей театр погода "
    "зима лето весна осень поезд станция дорога завод рабочие учителя врачи дети семьи праздник решение "
    "мэр район площадь здание проект строительство вокзал аэропорт порт берег остров лес поле урожай"
).split()
PUNCTUATED_LATIN = "Café crème brûlée naïve façade Zürich Ærø São Paulo déjà vu jalapeño Ångström über".split()


def russian_article(seed: int) -> str:
    """A Russian article; different seeds give different texts (same text would be a duplicate)."""
    rng = random.Random(seed)
    paragraphs = [
        " ".join(" ".join(rng.choice(RUSSIAN_WORDS) for _ in range(12)).capitalize() + "." for _ in range(4))
        for _ in range(6)
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<html><head>{meta}<title>Новости города: мост открыт</title>"
        "<meta property='og:type' content='article'></head>"
        f"<body><article><h1>Новости города: мост открыт</h1>{body}<p>Жители довольны.</p></article></body></html>"
    )


def latin_article() -> str:
    rng = random.Random(8859)
    words = PUNCTUATED_LATIN + "the council opened a new bridge over the river on monday morning".split()
    paragraphs = [" ".join(rng.choice(words) for _ in range(40)) + "." for _ in range(5)]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<html><head><meta charset='utf-8'><title>Crème brûlée festival in Zürich</title>"
        "<meta property='og:type' content='article'></head>"
        f"<body><article><h1>Crème brûlée festival in Zürich</h1>{body}<p>Façade déjà vu.</p></article></body></html>"
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def _route(handler, case: str) -> None:
    number = sum(map(ord, case)) * 7
    if case == "pdf-right-type":
        return handler.send(200, PDF, "application/pdf")
    if case == "pdf-wrong-type":
        return handler.send(200, PDF, "text/html; charset=utf-8")
    if case == "nul-bytes":
        page = article_html("nul", number).replace(b"<p>", b"<p>\x00 NUL\x00", 3)
        return handler.send(200, page)
    if case == "unclosed-tags":
        page = article_html("unclosed", number)
        for closing in (b"</p>", b"</article>", b"</body>", b"</html>", b"</h1>"):
            page = page.replace(closing, b"")
        return handler.send(200, page.replace(b"<p>", b"<p><div><span><b>", 3))
    if case == "doctype-preamble":
        preamble = b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "' + b"x" * 200_000 + b'">' + b"<!-- -->\n" * 20_000
        return handler.send(200, preamble + article_html("doctype", number).removeprefix(b"<!DOCTYPE html>"))
    if case == "utf8-header-cp1251-body":
        return handler.send(200, russian_article(1251).format(meta="").encode("cp1251"), "text/html; charset=utf-8")
    if case == "latin1-header-utf8-body":
        return handler.send(200, latin_article().encode("utf-8"), "text/html; charset=iso-8859-1")
    if case == "koi8r-meta-only":
        page = russian_article(20866).format(meta='<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">')
        return handler.send(200, page.encode("koi8_r"), "text/html")
    if case == "hostile-links":
        links = "".join(
            f'<a href="{href}">x</a>'
            for href in ("http://a:99999/", "http://a:b/", "http://[::1/", "http://[::1]/in", "javascript:alert(1)",
                         "mailto:x@y", "//[fe80::1%25eth0]/", "http://" + "a" * 300 + ".example/", "ok",
                         "http://a b.example/", "http://999.1.1.1/", "http://a.example%2Fb/")  # refused by w3lib 2.6
        )  # fmt: skip
        # A canonical that is no web address either, as a CMS writes one from a bad setting.
        page = article_html("links", number).replace(b"</head>", b'<link rel="canonical" href="http://a b.example/x"></head>')
        return handler.send(200, page.replace(b"</article>", links.encode() + b"</article>"))
    if case == "empty-body":
        return handler.send(200, b"")
    if case == "login-wall":
        page = (
            "<html><head><title>Council approves budget | Subscribers only</title>"
            "<meta property='og:type' content='article'></head><body><article><h1>Council approves budget</h1>"
            "<p>The council approved next year's budget on Monday after a long debate.</p>"
            "<div class='paywall'><p>This article is for subscribers only. Log in or subscribe to continue reading.</p>"
            "<form action='/login'><input name='email'><input type='password' name='password'>"
            "<button>Log in</button></form></div></article></body></html>"
        )
        return handler.send(200, page.encode())
    raise AssertionError(case)


CASES = [
    "pdf-right-type", "pdf-wrong-type", "nul-bytes", "unclosed-tags", "doctype-preamble", "utf8-header-cp1251-body",
    "latin1-header-utf8-body", "koi8r-meta-only", "empty-body", "login-wall", "hostile-links",
]  # fmt: skip


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    with crawl_database(tmp_path_factory.mktemp("content")) as url:
        yield url


@pytest.fixture(scope="module")
def server():
    with HostileServer() as main:
        for case in CASES:
            main.routes[case] = lambda handler, rest, case=case: _route(handler, case)
        yield main


@pytest.fixture(scope="module")
def crawl(server, database_url):
    return run_crawl("content", database_url, [server.case_url(case) for case in CASES])


def _row(crawl, url: str) -> tuple[str, str]:
    rows = [row for row in crawl.fetches() if row[0] == url]
    assert rows, f"{url} not in the crawl log"
    return rows[-1][2], rows[-1][3] or ""


def _text(crawl, url: str) -> str | None:
    engine = sa.create_engine(crawl.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT title || ' ' || text FROM articles WHERE canonical_url = :u"), {"u": url}
            ).scalar_one_or_none()
    finally:
        engine.dispose()


def test_content_crawl_went_on(crawl, server):
    assert_crawl_went_on(crawl, server, CASES)


@pytest.mark.parametrize(
    ("case", "outcome", "reason_part"),
    [
        ("pdf-right-type", "skipped", "content type application/pdf"),
        ("pdf-wrong-type", "not-an-article", "not-html"),
        ("empty-body", "not-an-article", ""),
        ("login-wall", "interstitial", "paywall"),
    ],
)
def test_non_articles_are_recorded_not_stored(crawl, server, results, case, outcome, reason_part):
    url = server.case_url(case, "bad")
    got, reason = _row(crawl, url)
    results.add(f"content: {case}", f"{outcome} ({reason_part or 'any reason'})", f"{got}: {reason}")
    assert got == outcome and reason_part in reason
    assert _text(crawl, url) is None


@pytest.mark.parametrize(
    ("case", "must_contain"),
    [
        ("nul-bytes", "NUL"),
        ("unclosed-tags", "Story"),
        ("doctype-preamble", "Story"),
        ("utf8-header-cp1251-body", "Жители довольны"),
        ("latin1-header-utf8-body", "Façade déjà vu"),
        ("koi8r-meta-only", "Жители довольны"),
        ("hostile-links", "Story"),  # bad ports and hosts, broken IPv6 literals, javascript: links, such a canonical
    ],
)
def test_odd_but_real_articles_are_stored_with_clean_text(crawl, server, results, case, must_contain):
    url = server.case_url(case, "bad")
    got, reason = _row(crawl, url)
    text = _text(crawl, url) or ""
    clean = must_contain in text and "\x00" not in text and "\ufffd" not in text
    results.add(f"content: {case}", f"stored, text has {must_contain!r}", f"{got} {reason}, text {'clean' if clean else 'WRONG'}")
    assert got == "stored", reason
    assert clean, text[:300]
