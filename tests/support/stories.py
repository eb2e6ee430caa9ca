"""Counting stories stored more than once, by their content.

``articles.canonical_url`` is UNIQUE, so counting its repeats finds nothing whatever the crawl does.
What a reader would call a duplicate is the same story twice: the same text (whitespace folded,
case ignored) in two articles of one source, or twice among one article's versions.
"""

from __future__ import annotations

import collections
import hashlib

import sqlalchemy as sa

__all__ = ["duplicate_stories", "story_key"]


def story_key(text: str) -> str:
    """A story's identity by content: its words, lowercased, whatever the whitespace between them."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()


def duplicate_stories(database_url: str) -> int:
    """How many extra copies of a story the database holds: articles of one source with the same
    text, plus versions of one article with the same text. 0 when every story is stored once."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            articles = conn.execute(sa.text("SELECT source_id, text FROM articles")).all()
            versions = conn.execute(sa.text("SELECT article_id, text FROM article_versions")).all()
    finally:
        engine.dispose()
    copies = collections.Counter((owner, story_key(text)) for owner, text in articles)
    copies.update(("version", owner, story_key(text)) for owner, text in versions)
    return sum(count - 1 for count in copies.values())
