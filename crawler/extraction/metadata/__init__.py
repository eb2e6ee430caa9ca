"""Article metadata from a parsed page: JSON-LD first, then meta tags, then trafilatura's guesses.

Every function here is pure over an lxml tree (plus the page URL); nothing is site-specific.
By field: ``structured`` reads the page's JSON-LD and <meta> tags once, ``titles``, ``dates``
and ``authors`` read one field each, and ``record`` gathers them into a :class:`PageMetadata`.
"""

from __future__ import annotations

from .authors import split_authors
from .dates import parse_date
from .record import PageMetadata, read_metadata
from .titles import choose_title, clean_title

__all__ = [
    "PageMetadata",
    "choose_title",
    "clean_title",
    "parse_date",
    "read_metadata",
    "split_authors",
]
