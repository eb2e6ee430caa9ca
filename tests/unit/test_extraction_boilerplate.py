"""The paragraph-level boilerplate classes, with near misses that must survive."""

from __future__ import annotations

import pytest

from crawler.extraction.body import clean_paragraphs, is_boilerplate

BOILERPLATE = [
    "Advertisement",
    "ADVERTISEMENT - Continue Reading Below",
    "Story continues below advertisement",
    "Related stories",
    "Read more",
    "Share this article",
    "Podcasts 0:00 13:56",
    "Listen 00:00 / 45:12",
    "Dear readers! Thank you for your vibrant engagement. Please read our comments policy before posting.",
    "Comments are moderated according to our community guidelines.",
    "We use cookies to give you the best experience. By continuing you accept our use of cookies.",
    "This website uses cookies. Manage your cookie settings.",
    "Sign up for our daily newsletter and get the top stories in your inbox.",
    "Thanks for subscribing! Look out for your first newsletter in your inbox soon.",
    "We may earn a commission from links on this page.",
    "This post contains affiliate links.",
    "© 2024 Harbour Media Ltd. All rights reserved.",
    "Published: 12 March 2024",
    "Updated Mar 12, 2024 at 10:31 am EST",
    "5 min read",
    "Table of Contents",
    "Opens in a new window",
    "Photo credit: Jane Roe",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
    "- Lorem Ipsum 2",
    "By signing up, you agree to receive marketing emails and accept our privacy terms.",
    (
        "Functional cookies help perform certain functions like sharing website content on social media and "
        "collecting feedback. Analytics cookies help us understand how visitors interact with the website."
    ),
]

ARTICLE_TEXT = [
    "The meeting ran from 9:00 to 11:30 and nobody left early, officials said.",
    "Readers left more than 300 comments under the council's announcement, most of them supportive.",
    "The bakery uses cookies from a family recipe that goes back four generations.",
    "Email newsletters remain one of the most reliable ways for small shops to reach customers.",
    "Copyright law has not kept pace with generative models, the committee concluded.",
    "Published in 1891, the first issue reported on the new railway station.",
    "Advertising revenue fell by a fifth in the third quarter, the company said.",
    "Read the full report on the council's website before the hearing on Monday evening.",
    "Advertising Costs and Influencer Marketing Comparison",
    "Source: 2023 national health insurance report",
    "The cookies were baked by volunteers, and the website for the fair listed every recipe they used.",
    "Designers have filled empty pages with lorem ipsum since the 1960s, when Letraset sold it on sheets.",
]


@pytest.mark.parametrize("paragraph", BOILERPLATE)
def test_boilerplate_paragraphs_are_recognised(paragraph: str) -> None:
    assert is_boilerplate(paragraph)


@pytest.mark.parametrize("paragraph", ARTICLE_TEXT)
def test_article_sentences_are_kept(paragraph: str) -> None:
    assert not is_boilerplate(paragraph)


def test_icon_label_runs_are_stripped() -> None:
    paragraphs = [
        "icon bookmark-b icon camera icon check",
        "icon share icon print The council met on Tuesday to vote on the budget.",
        "The icon of the city, its old lighthouse, is being restored.",
    ]
    assert clean_paragraphs(paragraphs) == [
        "The council met on Tuesday to vote on the budget.",
        "The icon of the city, its old lighthouse, is being restored.",
    ]


def test_flattened_menu_is_dropped_but_short_lists_stay() -> None:
    menu = [
        "World",
        "Business",
        "Sport",
        "Culture",
        "Science",
        "Opinion",
        "Weather",
        "Podcasts",
        "Video",
    ]
    article = [
        "The harbour reopened on Thursday after a two-year repair of its old stone walls."
    ]
    assert clean_paragraphs(menu + article) == article
    ingredients = ["Flour", "Water", "Salt", "Yeast"]
    assert clean_paragraphs(article + ingredients) == article + ingredients


def test_paragraphs_are_normalised() -> None:
    assert clean_paragraphs(["  Cafe\u0301\u200b  owners\n said  ", "", "\u200b"]) == [
        "Café owners said"
    ]


# Upper-cased by a template, some under Turkish rules ("İ" for "I"): the patterns ignore case as
# Python's re does, so the cheap keyword tests in front of them must not miss these either.
SHOUTED_BOILERPLATE = [
    "WE USE COOKIES TO GIVE YOU THE BEST EXPERIENCE.",
    "BU SİTE: THİS WEBSİTE USES COOKİES.",
    "THANKS FOR SUBSCRİBİNG!",
    "SİGN UP FOR OUR DAİLY NEWSLETTER.",
    "PLEASE READ OUR COMMENTS POLİCY BEFORE POSTİNG.",
    "THİS POST CONTAİNS AFFİLİATE LİNKS.",
    "© 2024 HARBOUR MEDİA LTD. ALL RİGHTS RESERVED.",
    "BY SİGNİNG UP, YOU AGREE TO RECEİVE MARKETİNG EMAİLS.",
]


@pytest.mark.parametrize("paragraph", SHOUTED_BOILERPLATE)
def test_upper_cased_boilerplate_is_recognised(paragraph: str) -> None:
    assert is_boilerplate(paragraph)


_BODY = [
    "The harbour council voted on Tuesday to close the old ferry terminal once the bridge opens.",
    "Residents of the north quarter said the ferry had been their only way to work for years.",
    "The council said buses would run every ten minutes from the bridge to the station instead.",
    "Work on the bridge is due to finish in the spring, two years later than first planned.",
]


def test_a_second_copy_of_the_text_is_dropped() -> None:
    """A page that carries its body again for another layout gives it to the extractor twice."""
    assert clean_paragraphs([*_BODY, "Share this article", *_BODY, *_BODY]) == _BODY


def test_repeats_that_are_not_a_copy_of_the_text_stay() -> None:
    pull_quote = _BODY[1]
    sections = [
        "North terminal", "Opening hours", "Tickets: sold on board and at the kiosk.",
        "South terminal", "Opening hours", "Tickets: sold on board and at the kiosk.",
    ]  # fmt: skip
    for paragraphs in ([*_BODY[:3], pull_quote, _BODY[3]], [*_BODY, *_BODY[:2]], sections):
        assert clean_paragraphs(paragraphs) == paragraphs


def test_a_page_of_repeated_one_character_paragraphs_is_cleaned_in_linear_time(monkeypatch) -> None:
    """A hostile page: thousands of paragraphs that count no words (one CJK character each), a
    long sequence of them repeated. Counting by words alone left every repeat in place after
    walking it to its end, so the work grew with the square of the page."""
    from crawler.extraction import body

    walked = []
    same_run = body._same_run
    monkeypatch.setattr(body, "_same_run", lambda *args: walked.append(same_run(*args)) or walked[-1])
    paragraphs = [chr(0x4E00 + n) for n in range(2000)] * 5
    assert body._drop_repeated_runs(paragraphs) == paragraphs[:2000]  # the four later runs are copies
    assert sum(walked) <= 2 * len(paragraphs), sum(walked)
