"""``python -m crawler.cli``: how the scheduler starts a crawl in a process of its own."""

from crawler.cli import main

main()
