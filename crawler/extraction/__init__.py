"""Article extraction: pure functions from HTML to an Article (or a Rejection saying why not).

Nothing here imports Scrapy or the database; everything is picklable for a process pool.
"""

from __future__ import annotations

from .article import extract_article, parse_page_html, warm_up
from .body import count_words
from .charset import decode_html
from .records import Article, Rejection

__all__ = [
    "Article",
    "Rejection",
    "count_words",
    "decode_html",
    "extract_article",
    "parse_page_html",
    "warm_up",
]
