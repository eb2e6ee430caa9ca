"""A test web of four news sites built the way real sites are, and a second day on it.

None of these sites was written with newsdesk in mind; each carries one thing real sites do that
a crawler gets wrong:

- ``soup``: div soup. No ``<article>``, no ``og:type``, no JSON-LD, no ``rel=canonical``; headlines
  are ``<div class="t">``, bodies ``<div class="x">``.
- ``copies``: every story also served as an AMP copy (``rel=amphtml``), a print copy (a "Print"
  link) and in two pages (``?page=2``, with a "View all" page ``?view=all``); marked up as articles.
- ``kanji``: a Japanese site in Shift_JIS whose charset is only in the bytes: no header charset,
  no ``<meta charset>``.
- ``wronglang``: an English site whose template says ``<html lang="de">`` and ``og:locale=de_DE``.

Every site has a home, a section, tag, topic and author pages, a text-only "lite" edition, an about
and a contact page and a video page; every story body carries the site's boilerplate boxes ("Read
also", a "found a mistake" notice, a newsletter prompt: :data:`PLANTED` lists them by site). On
day two (:meth:`NewsWeb.next_day`) each site edits one story, removes one (404 or 410) and leaves
the others as they were.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["PLANTED", "NewsWeb", "Site", "Story"]

STORIES_PER_SITE = 12
DAY_ONE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

_EN_WORDS = {
    "who": ("The harbour master", "A district nurse", "The council leader", "A shop owner", "The head teacher",
            "A union steward", "The parish clerk", "A site engineer", "The club secretary", "A librarian"),
    "did": ("warned that", "told residents that", "confirmed on Tuesday that", "said in a statement that",
            "admitted that", "argued at the meeting that", "wrote to members saying that"),
    "what": ("the ferry timetable would change before spring", "the new footbridge was running late",
             "the market hall needed a new roof", "the tram depot would close for repairs",
             "the library would open on Sundays", "the flood barrier had passed its inspection",
             "the school annexe was over budget", "the bus lane would stay", "the pool would reopen in March",
             "the recycling centre was short of staff", "the sea wall needed urgent work"),
    "then": ("Some {n} people attended.", "The bill came to {n} thousand pounds.", "A vote is due in {n} weeks.",
             "The plan was first put forward {n} years ago.", "Around {n} households are affected.",
             "Objectors have gathered {n} signatures.", "Work should take {n} months."),
}  # fmt: skip
_JA_WORDS = {
    "who": ("市の担当者は", "町内会の代表は", "地元の漁協は", "県の教育委員会は", "商店街の組合長は", "駅の管理者は"),
    "what": ("新しい橋の工事が春までに終わると説明した", "図書館の開館時間を延ばす計画を明らかにした",
             "市場の屋根を全面的に改修すると発表した", "路線バスの本数を増やす方針を示した",
             "防波堤の点検で問題は見つからなかったと報告した", "学校の増築費用が予算を上回ったと認めた"),
    "then": ("説明会には約{n}人が参加した。", "費用は約{n}億円に上る見通しだ。", "工事は{n}か月かかる予定だ。",
             "住民からは{n}件の意見が寄せられた。", "計画は{n}年前に初めて示された。"),
}  # fmt: skip


@dataclass
class Story:
    slug: str
    headline: str
    paragraphs: list[str]
    published: datetime
    tag: str
    topic: str
    author: str
    removed_status: int | None = None
    edits: int = 0

    @property
    def marker(self) -> str:
        """Text only this story has (its first two sentences): finds it in a stored body."""
        first = self.paragraphs[0]
        if "。" in first:
            return "。".join(first.split("。")[:2])
        return ". ".join(first.split(". ")[:2])

    @property
    def summary(self) -> str:
        """The teaser's text: the story's first sentence, as most sites show it."""
        first = self.paragraphs[0]
        end = first.find("。") + 1 or first.find(". ") + 1 or len(first)
        return first[:end]


@dataclass
class Site:
    name: str
    language: str
    #: Boilerplate boxes this site puts inside every story body.
    boxes: tuple[str, ...]
    gone_status: int
    stories: list[Story] = field(default_factory=list)
    base: str = ""
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def story_path(self, story: Story) -> str:
        return f"/news/{story.slug}"

    def live(self) -> list[Story]:
        return [story for story in self.stories if story.removed_status is None]

    # -- pages ------------------------------------------------------------------------------------

    def answer(self, raw_path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for a request path (with its query)."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        self.requests.append(raw_path)
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        page = self._page(path, query)
        if page is None:
            for story in self.stories:
                if story.removed_status and path.endswith("/" + story.slug):
                    return story.removed_status, "text/html", b"<html><body><h1>Gone</h1></body></html>"
            return 404, "text/html", b"<html><body><h1>Not found</h1></body></html>"
        if self.name == "kanji":
            # The charset is in the bytes only: no header parameter, no <meta>.
            return 200, "text/html", page.encode("shift_jis")
        return 200, "text/html; charset=utf-8", page.encode()

    def _page(self, path: str, query: dict[str, list[str]]) -> str | None:
        live = self.live()
        by_slug = {story.slug: story for story in live}
        listings = {
            "/": ("home", live),
            "/news/": ("section", live),
            "/lite/": ("lite", live),
        }
        for story in self.stories:
            listings[f"/tag/{story.tag}/"] = ("tag", [s for s in live if s.tag == story.tag])
            listings[f"/topic/{story.topic}/"] = ("topic", [s for s in live if s.topic == story.topic])
            listings[f"/author/{story.author}/"] = ("author", [s for s in live if s.author == story.author])
        if path in listings:
            kind, stories = listings[path]
            return self._lite(stories) if kind == "lite" else self._listing(kind, path, stories)
        if path == "/about/":
            return self._service("about")
        if path == "/contact/":
            return self._service("contact")
        if path == "/video/harbour-at-dawn/":
            return self._video()
        kind, _, slug = path.strip("/").partition("/")
        story = by_slug.get(slug)
        if story is None:
            return None
        if kind == "news":
            if self.name == "copies" and query.get("view") == ["all"]:
                return self._story(story, rendition="all")
            if self.name == "copies" and query.get("page") == ["2"]:
                return self._story(story, rendition="page2")
            return self._story(story)
        if self.name == "copies" and kind in ("amp", "print"):
            return self._story(story, rendition=kind)
        return None

    # -- templates --------------------------------------------------------------------------------

    def _shell(self, title: str, main: str, head: str = "") -> str:
        lang = "de" if self.name == "wronglang" else self.language
        menu = " ".join(
            f'<a href="{href}">{label}</a>'
            for href, label in (("/", "Home"), ("/news/", "News"), ("/lite/", "Lite"), ("/video/harbour-at-dawn/", "Video"),
                                ("/about/", "About"), ("/contact/", "Contact"))
        )  # fmt: skip
        charset = "" if self.name == "kanji" else '<meta charset="utf-8">'
        if self.name == "soup":
            # Div soup: every part of the page is a <div> with a class name, nothing else.
            return (
                f"<html><head>{charset}<title>{escape(title)}</title>{head}</head><body>"
                f'<div class="top"><div class="logo">{self.name.upper()}</div><div class="nav">{menu}</div></div>'
                f'<div class="wrap">{main}</div>'
                f'<div class="bottom"><div class="small">(c) 2026 {self.name} media. {menu}</div></div>'
                "</body></html>"
            )
        locale = '<meta property="og:locale" content="de_DE">' if self.name == "wronglang" else ""
        return (
            f'<!DOCTYPE html><html lang="{lang}"><head>{charset}<title>{escape(title)}</title>{locale}{head}</head><body>'
            f"<header><nav>{menu}</nav></header><main>{main}</main>"
            f"<footer><p>(c) 2026 {self.name} media.</p><nav>{menu}</nav></footer></body></html>"
        )

    def _teaser(self, story: Story) -> str:
        link = f'<a href="{self.story_path(story)}">{escape(story.headline)}</a>'
        date = f"{story.published:%Y-%m-%d}"
        if self.name == "soup":
            return f'<div class="t">{link}</div><div class="d">{date}</div><div class="s">{escape(story.summary)}</div>'
        return f'<div class="teaser"><h3>{link}</h3><time>{date}</time><p>{escape(story.summary)}</p></div>'

    def _listing(self, kind: str, path: str, stories: list[Story]) -> str:
        heading = f"{kind.title()}: {path.strip('/').rpartition('/')[2] or self.name}"
        teasers = "".join(self._teaser(story) for story in stories)
        more = '<div class="more"><a href="/tag/local/">local</a> <a href="/topic/town/">town</a></div>'
        return self._shell(heading, f'<div class="h">{escape(heading)}</div>{teasers}{more}')

    def _lite(self, stories: list[Story]) -> str:
        """The text-only edition: headline links and nothing else."""
        lines = "<br>".join(f'<a href="{self.story_path(s)}">{escape(s.headline)}</a>' for s in stories)
        charset = "" if self.name == "kanji" else '<meta charset="utf-8">'
        return f"<html><head>{charset}<title>{self.name} lite</title></head><body><b>{self.name} lite</b><br>{lines}</body></html>"

    def _service(self, kind: str) -> str:
        if kind == "about":
            text = {
                "ja": "私たちは地域のニュースを毎日お届けしています。ご意見はメールでお寄せください。",
                "en": "We have reported the news of the coast since 1921. Write to us with tips and corrections.",
            }[self.language]
            body = f'<div class="h">About us</div><div class="x">{text}</div><address><a href="mailto:desk@{self.name}.example">desk@{self.name}.example</a></address>'
        else:
            body = (
                '<div class="h">Contact</div><form action="/contact/" method="post">'
                '<input name="name"><input name="email" type="email"><textarea name="message"></textarea>'
                '<input type="submit" value="Send"></form><a href="tel:+440000000">Call the desk</a>'
            )
        return self._shell(kind.title(), body)

    def _video(self) -> str:
        caption = {"ja": "夜明けの港の様子。", "en": "The harbour at dawn, filmed from the pier."}[self.language]
        head = '<meta property="og:type" content="video.other">' if self.name != "soup" else ""
        body = f'<div class="h">{caption}</div><video src="/media/harbour.mp4" controls></video><div class="c">{caption}</div>'
        return self._shell(caption, body, head)

    def _story(self, story: Story, rendition: str = "") -> str:
        head = ""
        if self.name == "copies":
            canonical = self.url(self.story_path(story))
            head = (
                f'<link rel="canonical" href="{canonical}"><meta property="og:type" content="article">'
                f'<meta property="article:published_time" content="{story.published.isoformat()}">'
            )
            if not rendition:
                head += f'<link rel="amphtml" href="{self.url("/amp/" + story.slug)}">'
                head += f'<link rel="next" href="{canonical}?page=2">'
            elif rendition == "page2":
                head += f'<link rel="prev" href="{canonical}">'
        elif self.name != "soup":
            head = f'<meta property="article:published_time" content="{story.published.isoformat()}">'
        paragraphs = story.paragraphs
        half = len(paragraphs) // 2
        if rendition == "page2":
            paragraphs = paragraphs[half:]
        elif self.name == "copies" and rendition == "":
            paragraphs = paragraphs[:half]
        other = self.stories[(self.stories.index(story) + 1) % len(self.stories)]
        read_also = f'{self.boxes[0]} <a href="{self.story_path(other)}">{escape(other.headline)}</a>'
        blocks = [escape(p) for p in paragraphs]
        blocks.insert(min(2, len(blocks)), read_also)
        blocks.insert(min(4, len(blocks)), escape(self.boxes[1]))
        blocks.append(escape(self.boxes[2]))
        tag, topic, author = story.tag, story.topic, story.author
        links = (
            f'<a href="/tag/{tag}/">#{tag}</a> <a href="/topic/{topic}/">{topic}</a> '
            f'<a href="/author/{author}/">{author.replace("-", " ")}</a>'
        )
        date = f"{story.published:%Y-%m-%d %H:%M}"
        if self.name == "soup":
            body = "".join(f'<div class="x">{block}</div>' for block in blocks)
            main = f'<div class="hd">{escape(story.headline)}</div><div class="by">{links} {date}</div><div class="bd">{body}</div>'
        else:
            body = "".join(f"<p>{block}</p>" for block in blocks)
            pager = ""
            if self.name == "copies" and rendition == "":
                pager = (
                    f'<div class="pager"><a href="{self.story_path(story)}?page=2">Next page</a> '
                    f'<a href="{self.story_path(story)}?view=all">View all</a> '
                    f'<a href="/print/{story.slug}">Print</a></div>'
                )
            main = f"<h1>{escape(story.headline)}</h1><div class=\"by\">{links} <time>{date}</time></div><div class=\"body\">{body}</div>{pager}"
        return self._shell(story.headline, main, head)

    # -- day two ----------------------------------------------------------------------------------

    def edit(self, story: Story) -> None:
        story.edits += 1
        story.paragraphs[-1] += {
            "ja": f"(追記{story.edits}:市は説明会を延期した。)",
            "en": f" Update {story.edits}: the council has postponed the meeting.",
        }[self.language]


#: Boilerplate each site repeats inside every story body: none may reach a stored body.
PLANTED = {
    "soup": ("Read also:", "Found a mistake? Select the text and press Ctrl+Enter.",
             "Get our morning newsletter: the day's news before breakfast, free."),
    "copies": ("Read more:", "Spotted an error in this story? Tell the desk.",
               "Subscribe to the Copies daily briefing for the stories that matter."),
    "kanji": ("あわせて読みたい:", "誤字・脱字を見つけた場合はお知らせください。", "メールマガジンの登録はこちらから。毎朝ニュースをお届けします。"),
    "wronglang": ("See also:", "Noticed a mistake? Let us know and we will fix it.",
                  "Join our newsletter and never miss a local story again."),
}  # fmt: skip
_LANGUAGES = {"soup": "en", "copies": "en", "kanji": "ja", "wronglang": "en"}
_GONE = {"soup": 404, "copies": 410, "kanji": 404, "wronglang": 410}


def _write_story(rng: random.Random, language: str, number: int) -> tuple[str, list[str]]:
    words = _JA_WORDS if language == "ja" else _EN_WORDS
    paragraphs = []
    for _ in range(6):
        sentences = []
        for _ in range(3):
            if language == "ja":
                sentences.append(rng.choice(words["who"]) + rng.choice(words["what"]) + "。")
            else:
                sentences.append(f"{rng.choice(words['who'])} {rng.choice(words['did'])} {rng.choice(words['what'])}.")
            sentences.append(rng.choice(words["then"]).format(n=rng.randint(10, 9999)))
        paragraphs.append(("" if language == "ja" else " ").join(sentences))
    if language == "ja":
        headline = f"第{number}報:" + rng.choice(words["what"])
    else:
        headline = f"Report {number}: " + rng.choice(words["what"]).capitalize()
    return headline, paragraphs


class NewsWeb:
    """The four sites, each on its own loopback port, until the ``with`` block ends."""

    def __init__(self, seed: int = 14):
        rng = random.Random(seed)
        self.sites: list[Site] = []
        for name in ("soup", "copies", "kanji", "wronglang"):
            site = Site(name, _LANGUAGES[name], PLANTED[name], _GONE[name])
            for number in range(STORIES_PER_SITE):
                headline, paragraphs = _write_story(rng, site.language, number + 1)
                site.stories.append(
                    Story(
                        slug=f"{name}-{number + 1}-" + hashlib.sha1(headline.encode()).hexdigest()[:6],
                        headline=headline,
                        paragraphs=paragraphs,
                        published=DAY_ONE - timedelta(hours=3 * number),
                        tag=("local", "coast", "schools")[number % 3],
                        topic=("town", "transport")[number % 2],
                        author=("ann-lee", "ravi-shah")[number % 2],
                    )
                )
            self.sites.append(site)
        self.servers: list[ThreadingHTTPServer] = []

    @property
    def stories(self) -> list[Story]:
        return [story for site in self.sites for story in site.stories]

    @property
    def start_urls(self) -> list[str]:
        return [site.url("/") for site in self.sites]

    def next_day(self) -> dict[str, dict[str, Story]]:
        """Day two: each site edits its first story and removes its third; the rest stay as they were."""
        changed = {}
        for site in self.sites:
            edited, removed = site.stories[0], site.stories[2]
            site.edit(edited)
            removed.removed_status = site.gone_status
            changed[site.name] = {"edited": edited, "removed": removed}
        return changed

    def __enter__(self) -> NewsWeb:
        for site in self.sites:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
            site.base = f"http://127.0.0.1:{server.server_address[1]}"
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
        return self

    def __exit__(self, *exc) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            status, content_type, body = site.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
