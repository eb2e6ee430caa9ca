"""``newsdesk extract --db``: which source's site template a page gets, as the crawl would store it."""

from __future__ import annotations

from crawler.cli.page import SiteTemplates
from crawler.sources import Source
from storage.site_profiles import block_key

BOX = "Read also: the week in pictures"
STORY = "The council voted on Tuesday to close the harbour bridge for repairs until the spring."
RECORD = {"url": "https://www.example.com/business/1", "text": f"{STORY}\n\n{STORY} Again.\n\n{BOX}",
          "markdown": f"{STORY}\n\n{STORY} Again.\n\n## {BOX}", "word_count": 35}  # fmt: skip
PROFILE = frozenset({block_key(BOX)})
BUSINESS = Source(name="biz", start_urls=("https://www.example.com/business/",)).scope


def test_a_page_is_of_the_named_source_owning_its_address_or_of_the_source_named_after_its_site():
    named = SiteTemplates({"biz": PROFILE, "example.com": PROFILE}, {"biz": BUSINESS})
    assert named.sources_of("https://www.example.com/sport/2") == ["example.com"]  # crawl --url's name
    assert named.sources_of("https://other.org/business/1") == []
    # Only sources with a template count: a site crawled both ways is ambiguous only if both learnt one.
    assert SiteTemplates({"biz": PROFILE}, {"biz": BUSINESS}).sources_of(RECORD["url"]) == ["biz"]
    assert named.sources_of(RECORD["url"]) == ["biz", "example.com"]
    assert SiteTemplates({}, {"biz": BUSINESS}, source="biz").sources_of("file:///tmp/saved.html") == ["biz"]


def test_the_record_is_stripped_as_the_crawl_stores_it_or_failed_when_the_source_is_unclear():
    kind, stripped = SiteTemplates({"biz": PROFILE}, {"biz": BUSINESS}).strip("article", RECORD)
    assert kind == "article"
    assert (stripped["text"], stripped["markdown"]) == (f"{STORY}\n\n{STORY} Again.",) * 2
    assert stripped["word_count"] == 31
    kind, reason = SiteTemplates({"biz": PROFILE, "example.com": PROFILE}, {"biz": BUSINESS}).strip("article", RECORD)
    assert (kind, reason) == ("failed", "the page's site was crawled as biz and example.com: choose one with --source")
    assert SiteTemplates({"biz": PROFILE}, {}).strip("rejected", "not an article") == ("rejected", "not an article")
