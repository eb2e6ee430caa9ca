"""Normalisation, content hashes and MinHash similarity on crafted news texts (no database)."""

from __future__ import annotations

import pytest

from storage.dedup import (
    DEFAULT_NEAR_DUPLICATE_THRESHOLD,
    NUM_BANDS,
    band_keys,
    content_hash,
    estimate_similarity,
    fingerprint,
    minhash_signature,
    normalise_text,
    signature_from_bytes,
    signature_to_bytes,
)

STORY = """\
The city council voted on Tuesday to approve a new plan for the harbour district, ending two years of debate over how the old docks should be redeveloped.

Under the plan, about 1,200 homes will be built on the site of the former container terminal, a third of them at rents below the market rate. The scheme also includes a park along the waterfront and a new tram stop linking the district to the city centre.

Council leader Maria Jensen said the decision was "a turning point for the whole city". She told reporters that construction could begin as early as next spring if the final permits are granted without delay.

Opponents argued that the plan does too little to protect the small businesses that still operate near the docks. A group of traders has said it will challenge the decision in court, claiming the consultation process was rushed.

The harbour authority, which owns most of the land, welcomed the vote and said it would start talks with developers next month. Officials expect the first residents to move in by 2028.
"""

# Same story on the same topic, written independently: must not cluster with STORY.
SAME_TOPIC = """\
Residents of the harbour district packed a public meeting on Monday evening to voice concerns about the redevelopment of the old docks, a day before the city council is due to decide on the project.

Many of those who spoke said they feared rising rents would push long-standing families out of the area. Others praised the promise of new parks and better transport, saying the neighbourhood had been neglected for decades.

A spokesman for the developers insisted that affordable housing remained at the heart of the proposal and that local firms would be given priority for construction contracts.

The meeting ran for more than three hours. Council officials promised to publish a summary of the comments before Tuesday's vote, which is expected to be close.
"""


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def _similarity(a: str, b: str) -> float:
    sa_, sb = minhash_signature(normalise_text(a)), minhash_signature(normalise_text(b))
    assert sa_ is not None and sb is not None
    return estimate_similarity(sa_, sb)


class TestNormalise:
    def test_whitespace_case_and_punctuation_do_not_matter(self):
        a = "The  Council voted:\n\n“Yes,” said Ms Jensen."
        b = "the council voted \"yes\" said ms jensen"
        assert normalise_text(a) == normalise_text(b)
        assert content_hash(a) == content_hash(b)

    def test_unicode_composition_does_not_matter(self):
        assert content_hash("Caf\u00e9 opens") == content_hash("Cafe\u0301 opens")

    @pytest.mark.parametrize(
        "line",
        [
            "Updated 14:05 GMT",
            "Last updated: 12 March 2024, 14:05 UTC",
            "Published 3 hours ago",
            "Mon 4 Mar 2024 09.15 GMT",
            "14:05",
        ],
    )
    def test_timestamp_only_lines_are_dropped(self, line):
        body = "The council voted on Tuesday.\n{}\nConstruction starts in spring."
        assert content_hash(body.format(line)) == content_hash(body.format(""))

    def test_sentences_mentioning_times_are_kept(self):
        with_time = "Polls closed at 22:00 GMT on Thursday.\nCounting continues."
        assert "22 00" in normalise_text(with_time)
        assert content_hash(with_time) != content_hash("Counting continues.")

    def test_real_changes_change_the_hash(self):
        assert content_hash(STORY) != content_hash(STORY.replace("1,200", "1,500"))


class TestMinHash:
    def test_signature_is_deterministic_and_round_trips(self):
        first = minhash_signature(normalise_text(STORY))
        second = minhash_signature(normalise_text(STORY))
        assert first is not None and (first == second).all()
        assert (signature_from_bytes(signature_to_bytes(first)) == first).all()
        assert len(band_keys(first)) == NUM_BANDS
        assert band_keys(first) == band_keys(second)

    def test_too_short_texts_get_no_signature(self):
        assert minhash_signature(normalise_text("Breaking news.")) is None

    @pytest.mark.parametrize(
        "variant",
        [
            pytest.param(lambda t: "Harbour plan approved after two-year fight\n\n" + t, id="headline-changed"),
            pytest.param(
                lambda t: t + "\nThis article was amended on Wednesday to correct the number of homes.\n",
                id="sentence-appended",
            ),
            pytest.param(
                lambda t: "\n\n".join(_paragraphs(t)[:-1]), id="last-paragraph-removed"
            ),
            pytest.param(
                lambda t: "\n\n".join(
                    [*_paragraphs(t)[:2], "Reporting by the local desk; additional reporting by agencies in the region.", *_paragraphs(t)[2:]]
                ),
                id="paragraph-added",
            ),
            pytest.param(
                lambda t: t.replace(
                    "Opponents argued that the plan does too little to protect the small businesses that still operate near the docks.",
                    "Critics say small firms still working near the docks have been given too little protection.",
                ),
                id="sentence-reworded",
            ),
            pytest.param(
                lambda t: t.replace("Tuesday", "Tuesday evening").replace("“", '"').replace("next month", "in May"),
                id="wire-copy-edits",
            ),
        ],
    )
    def test_syndicated_copies_are_near_duplicates(self, variant):
        assert _similarity(STORY, variant(STORY)) >= DEFAULT_NEAR_DUPLICATE_THRESHOLD

    def test_combined_edits_still_match(self):
        edited = "\n\n".join(_paragraphs(STORY)[1:]).replace("about 1,200", "roughly 1,200")
        edited += "\n\nThe vote passed by 31 votes to 20."
        assert _similarity(STORY, edited) >= DEFAULT_NEAR_DUPLICATE_THRESHOLD

    def test_same_topic_different_story_is_not(self):
        assert _similarity(STORY, SAME_TOPIC) < 0.15

    def test_band_keys_are_shared_by_near_duplicates(self):
        a = minhash_signature(normalise_text(STORY))
        b = minhash_signature(normalise_text(STORY + "\nA short addition at the end of the piece."))
        c = minhash_signature(normalise_text(SAME_TOPIC))
        assert set(band_keys(a)) & set(band_keys(b))
        assert not set(band_keys(a)) & set(band_keys(c))


def test_fingerprint_carries_what_storage_compares():
    body = fingerprint(STORY)
    assert body.content_hash == content_hash(STORY)
    assert body.identifies
    assert (body.signature == minhash_signature(normalise_text(STORY))).all()
    short = fingerprint("Breaking news.")
    assert short.signature_bytes is None and short.signature is None and not short.identifies
