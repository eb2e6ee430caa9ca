"""``scrapy crawl`` whose exit code says how the crawl run ended.

Scrapy's own command exits 1 only when a crawl could not start. This one also exits 1 when the
crawl run (:class:`crawler.components.run.CrawlRun`) ended ``failed``, ``finished-with-errors`` or
``interrupted``; the run has already logged its one-line reason. Its ``-s`` values are checked as
``newsdesk crawl`` checks them (:mod:`crawler.settings_check`): a bad one is a one-line usage error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.utils.conf import arglist_to_dict

from crawler.settings_check import SettingError, check_settings

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider
    from scrapy.crawler import Crawler


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        try:
            check_settings(arglist_to_dict(opts.set))
        except SettingError as exc:
            raise UsageError(str(exc), print_help=False) from None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from crawler.components.run import CrawlRun

        super().run(args, opts)
        try:
            run = self.crawler.get_extension(CrawlRun)
        except RuntimeError:  # the crawl never started: Scrapy has set the exit code already
            return
        if run is not None and run.failed:
            self.exitcode = 1
