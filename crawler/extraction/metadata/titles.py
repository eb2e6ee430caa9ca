"""The headline: the visible h1 when the metadata agrees with it, else a metadata title without its site name."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .text import MONTHS, clean_text, name_key

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from lxml.html import HtmlElement

__all__ = [
    "choose_title",
    "clean_title",
    "host_keys",
    "is_site_name",
    "read_masthead_names",
    "text_with_breaks",
]

_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\-–—·•»«:~/]|::)\s+")
# "Site: Headline": a colon-ended label before the headline, itself without a colon or pipe.
_LEADING_LABEL = re.compile(r"(?P<label>[^:|]{2,40}?):\s+(?=\S)")


def clean_title(
    raw: str | None,
    *,
    site_names: Iterable[str | None],
    headlines: Iterable[str | None],
    host: str,
    masthead_names: Callable[[], Iterable[str]] | None = None,
    visible_headlines: Iterable[str] = (),
) -> str | None:
    """Strip a site-name suffix (or prefix) from a <title>-like string.

    A part is removed when it matches a known site name or the host, or when a
    headline seen elsewhere on the page (h1, og:title, JSON-LD) is what remains.
    ``masthead_names`` gives the logo texts, weaker witnesses (only an exact
    match counts), looked up only when nothing else settles the title.
    ``visible_headlines`` (h1s) equal to a prefix also show where the headline
    ends, except before a colon: "Index funds" is a label in "Index Funds: How to Invest".
    A site name written as a label ("Town Gazette: Pool stays open") goes too.
    """
    title = clean_text(raw)
    if not title:
        return None
    sites = site_keys(site_names) | host_keys(host)
    sites.discard("")
    # Exactly the site: "Teaching Online:" on teaching.example is a topic, not the site.
    label = _LEADING_LABEL.match(title)
    if label and name_key(label.group("label")) in sites:
        title = title[label.end() :]
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    # A declared site name at either end settles it, even when another tag
    # repeats the whole title (og:title is often the <title> verbatim).
    if name_key(parts[-1]) in sites:
        return _join_parts(title, len(parts) - 1)
    if name_key(parts[0]) in sites:
        return _tail_parts(title, len(parts) - 1)
    heads = {name_key(h) for h in headlines if h}
    if name_key(title) in heads:
        return title
    visible = {name_key(h) for h in visible_headlines if h}
    separators = list(_TITLE_SEPARATORS.finditer(title))
    for count in range(len(parts) - 1, 0, -1):
        head = _join_parts(title, count)
        if name_key(head) in heads or (
            name_key(head) in visible and separators[count - 1].group().strip() != ":"
        ):
            return head
    logos: set[str] | None = None

    def is_site(part: str) -> bool:
        nonlocal logos
        if is_site_name(part, sites):
            return True
        if logos is None:
            logos = {name_key(s) for s in (masthead_names() if masthead_names else ())}
            logos.discard("")
        return name_key(part) in logos

    # Suffix: "Headline | Section | Site".
    kept = list(parts)
    while len(kept) > 1 and is_site(kept[-1]):
        kept.pop()
    if len(kept) < len(parts):
        return _join_parts(title, len(kept))
    # Prefix: "Site | Headline".
    if is_site(parts[0]):
        return _tail_parts(title, len(parts) - 1)
    return title


def _join_parts(title: str, count: int) -> str:
    """The first ``count`` separator-delimited parts of ``title``, original separators kept."""
    separators = list(_TITLE_SEPARATORS.finditer(title))
    return title[: separators[count - 1].start()].strip()


def _tail_parts(title: str, count: int) -> str:
    separators = list(_TITLE_SEPARATORS.finditer(title))
    return title[separators[len(separators) - count].end() :].strip()


def is_site_name(part: str, sites: set[str]) -> bool:
    key = name_key(part)
    if not key:
        return False
    if key in sites:
        return True
    if _is_initialism(part, sites):
        return True
    # "Site" vs "Sitecom", "Site Blog", "Site Online": a site name with a short tail.
    return any(
        len(site) >= 4
        and (
            (key.startswith(site) and len(key) - len(site) <= 8)
            or (site.startswith(key) and len(key) >= 6)
        )
        for site in sites
    )


def site_keys(names: Iterable[str | None]) -> set[str]:
    """The keys of a site's names and of their initials ("World Future Awards" is also "wfa")."""
    keys = set()
    for name in names:
        if not name:
            continue
        keys.add(name_key(name))
        words = _TITLE_WORD.findall(name)
        if len(words) >= 2:
            keys.add(_INITIALS_PREFIX + "".join(word[0] for word in words).casefold())
    keys.discard("")
    return keys


# Initials are kept apart from names so "WFA" matches only as a whole part, never by prefix.
_INITIALS_PREFIX = "\x00"


def _is_initialism(part: str, sites: set[str]) -> bool:
    """A short capitalised part ("WFA") that spells a site name's initials."""
    part = part.strip()
    return (
        2 <= len(part) <= 6
        and part.isalpha()
        and part.isupper()
        and _INITIALS_PREFIX + part.casefold() in sites
    )


_GENERIC_SUBDOMAINS = frozenset(
    {
        "www",
        "m",
        "amp",
        "news",
        "blog",
        "blogs",
        "edition",
        "en",
        "mobile",
        "web",
        "home",
    }
)


def host_keys(host: str) -> set[str]:
    host = host.lower().split(":")[0]
    host = host.removeprefix("www.")
    labels = [label for label in host.split(".") if label]
    while len(labels) > 2 and labels[0] in _GENERIC_SUBDOMAINS:
        labels = labels[1:]
    keys = {name_key(host)}
    if labels:
        keys.add(name_key(labels[0]))
        if len(labels) >= 2:
            keys.add(name_key(labels[-2]))
    return {k for k in keys if len(k) >= 3}


def text_with_breaks(element: HtmlElement) -> str:
    """An element's text with each <br> read as a space: "Head<br>Subhead" is not "HeadSubhead"."""
    return "".join(
        node if isinstance(node, str) else " "
        for node in element.xpath(".//text() | .//br")
    )


# Where pages put the site's own name: the logo, the masthead, the home link.
_MASTHEAD_XPATH = (
    ".//*[contains(@class, 'logo') or contains(@id, 'logo') or contains(@class, 'Logo')"
    " or contains(@class, 'masthead') or contains(@id, 'masthead') or contains(@class, 'brand')"
    " or contains(@class, 'site-title') or contains(@class, 'site-name') or @rel = 'home']"
)
_MASTHEAD_MAX_WORDS = 6


def read_masthead_names(tree: HtmlElement) -> list[str]:
    """Short texts and image alts of logo/masthead elements: the site's name as the page shows it."""
    names: list[str] = []
    for element in tree.xpath(_MASTHEAD_XPATH)[:8]:
        texts = [element.text_content()]
        texts.extend(img.get("alt") or "" for img in element.iter("img"))
        for text in texts:
            text = clean_text(text)
            if text and len(text.split()) <= _MASTHEAD_MAX_WORDS:
                names.append(text)
    return names


def choose_title(
    *,
    h1_texts: list[str | None],
    metadata_titles: list[str | None],
    site_names: list[str | None],
    host: str,
    masthead_names: Callable[[], Iterable[str]] | None = None,
) -> str | None:
    """The visible headline when the page's metadata agrees with it, else the cleaned metadata title.

    ``metadata_titles`` is in trust order and ends with trafilatura's guess.

    The h1 is what readers see and carries no site suffix, but pages also use
    h1 for logos and section names; metadata titles (JSON-LD headline,
    og:title, <title>) are reliable about *what* the headline is but often
    carry a " | Site" suffix or an SEO rewrite.
    """
    site_names = _drop_page_titles(site_names, metadata_titles)
    sites = site_keys(site_names) | host_keys(host)
    sites.discard("")
    # Some CMSs put the site suffix in the h1 too ("Headline – Site"); a repeated
    # h1 (mobile and desktop layouts) is one witness.
    h1s = list(
        dict.fromkeys(
            clean_title(h, site_names=site_names, headlines=(), host=host) or h
            for h in h1_texts
            if h and len(h.split()) <= 40 and not is_site_name(h, sites)
        )
    )
    metadata = [m for m in metadata_titles if m]
    # The last metadata title is trafilatura's, itself cut from <title>: not an
    # independent witness of where the headline ends.
    witnesses = metadata_titles[:-1]
    cleaned = [
        clean_title(
            m,
            site_names=site_names,
            headlines=[o for o in witnesses if o and o is not m],
            visible_headlines=[h for h in h1s if name_key(h) != name_key(m)],
            host=host,
            masthead_names=masthead_names,
        )
        for m in metadata
    ]
    cleaned = [c for c in cleaned if c and not is_site_name(c, sites)]
    # A blog theme's masthead h1 ("example.com") names the site, unseparated,
    # in a <title> such as "example.com Headline".
    masthead_h1s = [h for h in h1_texts if h and is_site_name(h, sites)]
    cleaned = [_without_site_name(c, masthead_h1s) for c in cleaned]

    return _strip_pipe_suffix(_pick_title(h1s, cleaned))


def _without_site_name(title: str, site_names: list[str]) -> str:
    """``title`` without a site name at its start or end that no separator sets apart."""
    folded = title.casefold()
    for name in site_names:
        name = name.casefold()
        if len(folded) <= len(name) + 1:
            continue
        if folded.startswith(name + " "):
            return title[len(name) + 1 :]
        if folded.endswith(" " + name):
            return title[: -len(name) - 1]
    return title


def _drop_page_titles(
    site_names: list[str | None], metadata_titles: list[str | None]
) -> list[str | None]:
    """Site names but the page's own "Headline | Site" title, which some CMSs copy into og:site_name."""
    titles = {name_key(t) for t in metadata_titles if t and _TITLE_SEPARATORS.search(t)}
    return [s for s in site_names if s and name_key(s) not in titles]


def _pick_title(h1s: list[str], cleaned: list[str]) -> str | None:
    best, best_overlap = None, 0.0
    for h1 in h1s:
        overlap = max((_agreement(h1, c) for c in cleaned), default=0.0)
        if overlap > best_overlap:
            best, best_overlap = h1, overlap
    if best is not None and best_overlap >= 0.6:
        best_key = name_key(best)
        if best.isupper():
            # An h1 typed in capitals is styled as a label: the metadata spelling reads better.
            return next((c for c in cleaned if not c.isupper()), best)
        if any(name_key(c) == best_key for c in cleaned):
            return best  # what readers see, word for word in the metadata
        for candidate in cleaned:
            if _is_padded_copy(best, candidate):
                return candidate
        return best
    if len(h1s) == 1 and len(h1s[0].split()) >= 3 and not h1s[0].isupper():
        return h1s[0]
    return cleaned[0] if cleaned else (h1s[0] if h1s else None)


def _is_padded_copy(h1: str, candidate: str) -> bool:
    """Whether the h1 is the metadata headline with a dateline, byline or label glued on.

    "Headline Posted on May 1 by x", "Headline (example.com) 87", "Blog: Headline",
    "Dec 18 2025 Headline": the metadata title inside is the clean version. Text
    before it counts only as a label (it ends in ":" or a separator) or a date, as
    "The" or "2025" in front is part of the headline. A metadata title that is only
    the h1's beginning is more often cut short (length limits, "... and k") than
    the h1 is padded, so what follows it must be a dateline, byline or source.
    """
    h1_key, candidate_key = name_key(h1), name_key(candidate)
    if (
        len(candidate_key) >= len(h1_key)
        or candidate_key not in h1_key
        or len(candidate.split()) < 3
    ):
        return False
    if h1_key.startswith(candidate_key):
        return bool(_GLUED_TAIL.search(h1[len(candidate) :]))
    start = h1.casefold().find(candidate.casefold())
    return start > 0 and bool(_LABEL_BEFORE_HEADLINE.search(h1[:start]))


# What a CMS glues after a headline inside its h1: a dateline, a byline, or the
# source's domain in parentheses as link aggregators show it.
_GLUED_TAIL = re.compile(
    rf"^\W*(?:(?:posted|published|updated|written)\b|by\s|on\s+{MONTHS}|{MONTHS}\s+\d"
    rf"|\d{{1,2}}\s+{MONTHS}|(?:19|20)\d\d\b|\d{{1,2}}[./]\d{{1,2}}[./]\d"
    r"|(?:www\.)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\s*\))",
    re.IGNORECASE,
)
# What goes before a headline inside its h1: a label ending in a separator, or a date.
_LABEL_BEFORE_HEADLINE = re.compile(
    rf"(?:[:|–—·•»-]\s*$"
    rf"|^\W*(?:{MONTHS}\s+\d{{1,2}}\b|\d{{1,2}}\s+{MONTHS}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d))",
    re.IGNORECASE,
)
# "Headline | Section", "Headline • Site": a pipe or bullet almost never belongs to a headline.
_PIPE_SUFFIX = re.compile(r"\s+[|•·»]\s+(?P<tail>[^|•·»]{1,40})$")


def _strip_pipe_suffix(title: str | None) -> str | None:
    while title:
        match = _PIPE_SUFFIX.search(title)
        if (
            not match
            or len(match.group("tail").split()) > 4
            or len(title[: match.start()].split()) < 3
        ):
            break
        title = title[: match.start()].rstrip()
    return title


_TITLE_WORD = re.compile(r"\w+")


def _content_words(text: str) -> set[str]:
    """Words of three letters or more ("to", "in", "of" agree by chance), and numbers."""
    return {
        w for w in _TITLE_WORD.findall(text.casefold()) if len(w) >= 3 or w.isdigit()
    }


def _agreement(h1: str, title: str) -> float:
    """How well an h1 and a metadata title tell the same headline.

    Their overlap coefficient (so a dateline glued to either side does not
    count against it), unless the h1 covers less than half of the title: a
    section label ("Index funds") inside a longer headline ("Index Funds: How
    to Invest") is not the headline.
    """
    left = _content_words(h1)
    right = _content_words(title)
    if not left or not right:
        return 0.0
    shared = len(left & right)
    if shared <= 0.5 * len(right):
        return 0.0
    return shared / min(len(left), len(right))
