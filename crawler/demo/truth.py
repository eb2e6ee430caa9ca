"""Ground truth: what a perfect crawl of the demo web should store, derived from the story data.

``python -m crawler.demo --write-ground-truth`` refreshes ``ground_truth.json`` beside this
module; a unit test checks that the file and :func:`ground_truth` agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.demo.model import canonical_path
from crawler.demo.stories import EDITIONS, stories_for

__all__ = ["GROUND_TRUTH_FILE", "GroundTruthArticle", "ground_truth", "ground_truth_document"]

GROUND_TRUTH_FILE = Path(__file__).with_name("ground_truth.json")


@dataclass(frozen=True)
class GroundTruthArticle:
    site: str
    path: str  # canonical path, without scheme/host: the port differs per run
    title: str  # the bare headline, no site suffix
    published_at: datetime
    modified_at: datetime | None
    authors: tuple[str, ...]
    body: str  # the article paragraphs only, separated by blank lines
    language: str
    syndication_group: str | None
    edition_added: int

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "path": self.path,
            "title": self.title,
            "published_at": self.published_at.isoformat(),
            "modified_at": self.modified_at.isoformat() if self.modified_at else None,
            "authors": list(self.authors),
            "body": self.body,
            "language": self.language,
            "syndication_group": self.syndication_group,
            "edition_added": self.edition_added,
        }


def ground_truth(edition: int = 1) -> list[GroundTruthArticle]:
    """Every article served by the demo web in the given edition (videos, about pages and
    error pages are not articles and are absent)."""
    return [
        GroundTruthArticle(
            site=story.site,
            path=canonical_path(story),
            title=story.title,
            published_at=story.published,
            modified_at=story.modified,
            authors=story.authors,
            body="\n\n".join(story.paragraphs),
            language=story.language,
            syndication_group=story.syndication_group,
            edition_added=story.edition_added,
        )
        for story in stories_for(edition)
    ]


def ground_truth_document() -> dict[str, Any]:
    """The content of ground_truth.json: every edition's articles."""
    return {
        "editions": {
            str(edition): [article.to_json() for article in ground_truth(edition)]
            for edition in EDITIONS
        }
    }


def write_ground_truth_file(path: Path = GROUND_TRUTH_FILE) -> Path:
    text = json.dumps(ground_truth_document(), ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return path
