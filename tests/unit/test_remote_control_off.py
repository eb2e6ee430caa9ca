"""No crawl opens a remote-control port: Scrapy's telnet console and RemoteControl server are off."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from crawler.runner import project_settings
class Probe(Spider):
    name = "probe"
crawler = Crawler(Probe, project_settings("sqlite:///unused.db"))
crawler._apply_settings()
print(",".join(type(extension).__name__ for extension in crawler.extensions.middlewares))
"""


def test_a_crawl_loads_neither_telnet_nor_remote_control(tmp_path):
    # A fresh process: a Twisted reactor is installed once per process.
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.strip().split(",")
    assert "CoreStats" in loaded  # the probe really built the extensions
    assert "TelnetConsole" not in loaded
    assert "RemoteControl" not in loaded
