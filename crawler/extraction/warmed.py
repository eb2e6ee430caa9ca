"""Importing this module warms extraction up (see :func:`~crawler.extraction.article.warm_up`).

The reading pool's fork server imports it, so every worker forked from it, including those that
replace a worker every few hundred pages, starts with the lazily loaded data already in memory:
trafilatura's, dateparser's locales and the language model (about 1 s and 75 MB, shared
copy-on-write rather than loaded per worker).
"""

from .article import warm_up
from .language import load_language_model

warm_up()
load_language_model()
