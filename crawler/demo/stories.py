"""All demo stories and the editions that change them."""

from __future__ import annotations

from dataclasses import replace

from crawler.demo.model import Story, StoryEdit, moment
from crawler.demo.stories_courier import COURIER_STORIES
from crawler.demo.stories_ledger import LEDGER_STORIES
from crawler.demo.stories_planet import PLANET_STORIES

__all__ = ["EDITIONS", "stories_for"]

EDITIONS = (1, 2)

ALL_STORIES: tuple[Story, ...] = PLANET_STORIES + LEDGER_STORIES + COURIER_STORIES

# Edition 2 corrects the vote count in the council budget story.
EDITS: tuple[tuple[int, StoryEdit], ...] = (
    (
        2,
        StoryEdit(
            site="planet",
            slug="council-budget-vote",
            paragraph_index=2,
            text="The final budget passed by 30 votes to 25, with three abstentions, after a "
            "recount requested by the opposition found that one vote had been recorded "
            "against the wrong name.",
            modified=moment("2026-11-23 16:00"),
        ),
    ),
)


def stories_for(edition: int) -> tuple[Story, ...]:
    """Stories live in the given edition, with that edition's corrections applied."""
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r}; the demo web has editions {EDITIONS}")
    stories = []
    for story in ALL_STORIES:
        if story.edition_added > edition:
            continue
        for edit_edition, edit in EDITS:
            if edit_edition <= edition and (edit.site, edit.slug) == (story.site, story.slug):
                paragraphs = list(story.paragraphs)
                paragraphs[edit.paragraph_index] = edit.text
                story = replace(story, paragraphs=tuple(paragraphs), modified=edit.modified)
        stories.append(story)
    return tuple(stories)
