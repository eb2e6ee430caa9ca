"""Importing this module warms extraction up (see :func:`~crawler.extraction.article.warm_up`).

The reading pool's fork server imports it, so every worker forked from it, including those that
replace a worker every few hundred pages, starts with the lazily loaded data already in memory:
trafilatura's, dateparser's locales and the language model (about 1 s and 75 MB, shared
copy-on-write rather than loaded per worker). A warm-up that fails (a full disk, a broken data
file) is logged and not fatal: the fork server must start, and workers then load what they need
on their first page.
"""

import logging

from .article import warm_up
from .language import load_language_model

try:
    warm_up()
    load_language_model()
except Exception:  # noqa: BLE001 - an import error here would take the fork server down with it
    logging.getLogger(__name__).exception("extraction warm-up failed; workers load lazily instead")
