"""Importing this module warms extraction up (see :func:`~crawler.extraction.article.warm_up`).

The reading pool's fork server imports it, so every worker forked from it, including those that
replace a worker every few hundred pages, starts with the lazily loaded data already in memory.
"""

from .article import warm_up

warm_up()
