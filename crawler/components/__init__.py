"""Scrapy components of a crawl, each built by ``from_crawler``."""
