"""The bundled offline demo news web: three invented publishers on one loopback server.

Used by ``make demo`` and the integration tests. No Scrapy here: stdlib ``http.server`` only.
"""

from __future__ import annotations

from crawler.demo.server import DemoWeb
from crawler.demo.truth import GroundTruthArticle, ground_truth

__all__ = ["DemoWeb", "GroundTruthArticle", "ground_truth"]
