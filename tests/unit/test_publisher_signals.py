"""Publishers' signals from every place they appear: well-known file, headers, <meta>, robots.txt."""

from __future__ import annotations

import json

import pytest

from crawler.discovery.ai_agents import known_agents, robots_verdicts
from crawler.extraction import parse_page_html
from crawler.extraction.signals import (
    TdmDeclaration,
    header_signals,
    html_signals,
    parse_tdmrep_file,
    resolve_tdm,
)


def page(head: str = "", body: str = "<p>Text.</p>") -> object:
    return parse_page_html(f"<html><head>{head}</head><body>{body}</body></html>".encode(), "utf-8")


# --- TDMRep: the well-known file --------------------------------------------------------------


def test_tdmrep_file_first_matching_location_applies():
    rules = parse_tdmrep_file(
        json.dumps(
            [
                {"location": "/free/*", "tdm-reservation": 0},
                {"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://example.org/policy.json"},
            ]
        ).encode()
    )
    assert rules.error is None
    assert rules.declaration_for("https://example.org/free/story") == TdmDeclaration(False, None, "well-known")
    assert rules.declaration_for("https://example.org/news/story") == TdmDeclaration(
        True, "https://example.org/policy.json", "well-known"
    )


def test_tdmrep_location_end_anchor():
    rules = parse_tdmrep_file(b'[{"location": "/only$", "tdm-reservation": 1}]')
    assert rules.declaration_for("https://example.org/only").reserved is True
    assert rules.declaration_for("https://example.org/only/more") is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "not JSON"),
        (b'{"location": "/", "tdm-reservation": 1}', "not a JSON array"),
        (b"\xff\xfe\x00garbage", "not JSON"),
    ],
)
def test_malformed_tdmrep_file_is_no_rule_and_says_why(body, error):
    rules = parse_tdmrep_file(body)
    assert rules.rules == ()
    assert error in rules.error
    assert rules.declaration_for("https://example.org/story") is None


def test_malformed_rule_reads_as_unset_and_is_counted():
    rules = parse_tdmrep_file(b'[{"location": "/*", "tdm-reservation": "yes"}, {"tdm-reservation": 1}]')
    assert rules.error == "2 malformed rules"
    # The rule with a bad value still matches, as unset: the protocol's answer to an error.
    assert rules.declaration_for("https://example.org/a").reserved is None


# --- TDMRep: headers and <meta> ---------------------------------------------------------------


def test_tdm_headers():
    signals = header_signals({"tdm-reservation": ["1"], "tdm-policy": ["https://example.org/p"]})
    assert signals.tdm == TdmDeclaration(True, "https://example.org/p", "header")
    assert signals.tdm_reserved


def test_tdm_meta():
    signals = html_signals(page('<meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="https://x.org/p">'))
    assert signals.tdm == TdmDeclaration(True, "https://x.org/p", "meta")


def test_policy_without_reservation_means_nothing():
    assert header_signals({"tdm-reservation": ["0"], "tdm-policy": ["https://example.org/p"]}).tdm.policy is None


def test_precedence_meta_over_header_over_well_known():
    meta = TdmDeclaration(False, None, "meta")
    header = TdmDeclaration(True, None, "header")
    well_known = TdmDeclaration(True, "https://example.org/p", "well-known")
    assert resolve_tdm(meta, header, well_known) is meta
    assert resolve_tdm(None, header, well_known) is header
    assert resolve_tdm(None, None, well_known) is well_known
    assert resolve_tdm(None, None, None) is None


def test_conflicting_page_and_headers_resolve_to_the_page_meta():
    html = html_signals(page('<meta name="tdm-reservation" content="0">'))
    headers = header_signals({"tdm-reservation": ["1"]})
    merged = html.merged(headers)
    assert merged.tdm.origin == "meta"
    assert not merged.tdm_reserved


def test_malformed_meta_gives_way_to_a_well_formed_header():
    html = html_signals(page('<meta name="tdm-reservation" content="maybe">'))
    merged = html.merged(header_signals({"tdm-reservation": ["1"]}))
    assert merged.tdm.origin == "header"
    assert merged.tdm_reserved


# --- Robots directives and Content-Usage ------------------------------------------------------


def test_x_robots_tag_directives_for_everyone_only():
    signals = header_signals({"x-robots-tag": ["noarchive, noai", "otherbot: noindex", "none"]})
    assert signals.robots == {"noarchive", "noai", "noindex"}


def test_x_robots_tag_aimed_at_another_bot_is_ignored():
    assert header_signals({"x-robots-tag": ["googlebot: noarchive"]}).robots == frozenset()


def test_meta_robots_directives():
    signals = html_signals(page('<meta name="robots" content="index, nosnippet, noimageai">'))
    assert signals.robots == {"nosnippet", "noimageai"}


def test_robots_from_meta_and_header_add_up():
    merged = html_signals(page('<meta name="robots" content="noai">')).merged(header_signals({"x-robots-tag": ["noarchive"]}))
    assert merged.robots == {"noai", "noarchive"}


def test_content_usage_header_kept_as_written():
    assert header_signals({"content-usage": ["train-ai=n, search=y"]}).content_usage == "train-ai=n, search=y"


# --- Paywall markup ---------------------------------------------------------------------------

PAYWALL_LD = """<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": "False",
"hasPart": {"@type": "WebPageElement", "isAccessibleForFree": false, "cssSelector": ".paywalled"}}</script>"""


def test_paywall_markup_with_the_marked_part_served_is_not_truncated():
    long_text = " ".join(["word"] * 400)
    signals = html_signals(page(PAYWALL_LD, f'<p>Lead.</p><div class="paywalled"><p>{long_text}</p></div>'), word_count=402)
    assert signals.free is False
    assert signals.paywalled_selectors == (".paywalled",)
    assert not signals.truncated


def test_paywall_markup_with_a_teaser_body_is_truncated():
    signals = html_signals(page(PAYWALL_LD, "<p>Only the first lines of the story.</p>"), word_count=7)
    assert signals.free is False
    assert signals.truncated


def test_free_story_is_free_and_whole():
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": true}</script>'
    signals = html_signals(page(ld), word_count=20)
    assert signals.free is True
    assert not signals.truncated


def test_unreadable_css_selector_is_no_match():
    ld = PAYWALL_LD.replace(".paywalled", "div[[[")
    assert html_signals(page(ld, "<p>Teaser.</p>"), word_count=1).truncated


# --- robots.txt groups for AI crawlers --------------------------------------------------------


def test_robots_groups_for_ai_agents_next_to_ours():
    robots = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    verdicts = robots_verdicts(robots, "https://example.org/", "newsdesk")
    assert verdicts.ours is True
    assert verdicts.blocked_ai_agents == ["CCBot", "GPTBot"]
    assert verdicts.ai_agents["ClaudeBot"] is True


def test_robots_blocking_everyone_blocks_us_too():
    verdicts = robots_verdicts("User-agent: *\nDisallow: /\n", "https://example.org/", "newsdesk")
    assert verdicts.ours is False
    assert len(verdicts.blocked_ai_agents) == len(known_agents().names)


def test_agent_list_is_dated_and_names_the_well_known_agents():
    agents = known_agents()
    assert {"GPTBot", "ClaudeBot", "CCBot", "Google-Extended"} <= set(agents.names)
    assert agents.updated.year >= 2025
