"""The demo web's data model: stories as plain frozen records, and the site descriptions.

Everything the server renders and everything the ground truth states comes from these
records, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["SITES", "Site", "Story", "StoryEdit", "canonical_path", "moment"]

UTC = timezone.utc
# The Evening Courier publishes from a Central European newsroom: its times carry +01:00,
# so consumers must compare aware datetimes rather than wall-clock strings.
CET = timezone(timedelta(hours=1))


def moment(text: str, tz: timezone = UTC) -> datetime:
    """'2026-11-20 14:05' in the given zone, as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)


@dataclass(frozen=True)
class Story:
    site: str
    slug: str
    section: str
    title: str
    published: datetime
    authors: tuple[str, ...]
    paragraphs: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    modified: datetime | None = None
    language: str = "en"
    syndication_group: str | None = None
    edition_added: int = 1

    @property
    def description(self) -> str:
        first = self.paragraphs[0]
        end = first.find(". ")
        return first if end == -1 else first[: end + 1]

    @property
    def last_changed(self) -> datetime:
        return self.modified or self.published


@dataclass(frozen=True)
class StoryEdit:
    """A correction published in a later edition: one paragraph replaced."""

    site: str
    slug: str
    paragraph_index: int
    text: str
    modified: datetime


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    sections: tuple[str, ...]
    feed_path: str
    feed_type: str  # MIME type advertised on the homepage
    sitemap_path: str

    @property
    def prefix(self) -> str:
        return f"/{self.key}/"


SITES: dict[str, Site] = {
    "planet": Site(
        "planet", "The Daily Planet", ("world", "business", "science"),
        "/planet/feed.rss", "application/rss+xml", "/planet/sitemap.xml",
    ),
    "ledger": Site(
        "ledger", "Metro Ledger", ("city", "transport", "sport"),
        "/ledger/atom.xml", "application/atom+xml", "/ledger/sitemap.xml",
    ),
    "courier": Site(
        "courier", "Evening Courier", ("politics", "culture", "health"),
        "/courier/rss.xml", "application/rss+xml", "/courier/news-sitemap.xml",
    ),
}


def canonical_path(story: Story) -> str:
    """Each site has its own URL scheme, as real publishers do."""
    if story.site == "planet":
        return f"/planet/{story.published:%Y/%m/%d}/{story.slug}"
    return f"/{story.site}/{story.section}/{story.slug}"
