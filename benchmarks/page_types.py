"""Page typing on real article pages: how many stories are lost at the door, and what typing costs.

Usage: .venv/bin/python benchmarks/page_types.py [--data PATH_TO_EXTRACTION_EVAL]

Every page of ../shared/extraction-eval is a real article, so every page typed hub, media or
service is a story lost. Pages are read as the crawl reads them (``read_page``, their relative
links pointed away as ``../shared/tools/real_pages_site.py`` serves them), each half of
splits.json on its own: thresholds are fitted on `tune`, `check` is the result. Also printed: the
pages extraction then rejects, and the median milliseconds of ``type_page`` per page.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from crawler.discovery.pagetype import type_page  # noqa: E402
from crawler.discovery.scope import CrawlScope  # noqa: E402
from crawler.extraction import Article, parse_page_html  # noqa: E402
from crawler.reading import ReadRequest, read_page  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "extraction-eval"
BASE = "http://127.0.0.1:8790/"
RELATIVE_HREF = re.compile(rb"""href\s*=\s*(?:(["'])(?!https?:|//)[^"']*\1|(?!["']|https?:|//)[^\s>]+)""", re.I)


def measure(data: Path, split: str) -> None:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    halves = json.loads((data / "splits.json").read_text(encoding="utf-8"))["pages"]
    scope = CrawlScope.from_start_urls([BASE])
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    typing_ms = []
    for page_id in sorted(page_id for page_id in truth if halves.get(page_id) == split):
        raw = gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes())
        html = RELATIVE_HREF.sub(b'href="https://elsewhere.invalid/"', raw)
        url = f"{BASE}a/{page_id}"
        tree = parse_page_html(html)
        started = time.perf_counter()
        type_page(tree, url)
        typing_ms.append((time.perf_counter() - started) * 1000)
        reading = read_page(html, ReadRequest(url=url, scope=scope))
        counts["pages"] += 1
        if reading.not_article_reason is not None:
            counts["typed not a story"] += 1
            reasons[reading.not_article_reason.split(":")[0]] += 1
        elif not isinstance(reading.extraction, Article):
            counts["rejected by extraction"] += 1
            reasons[f"extraction: {reading.extraction.reason}"] += 1
    print(
        f"{split}: {counts['pages']} real stories, {counts['typed not a story']} typed not a story, "
        f"{counts['rejected by extraction']} rejected by extraction; type_page median "
        f"{statistics.median(typing_ms):.1f} ms"
    )
    for reason, count in reasons.most_common():
        print(f"    {count:3d}  {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    for split in ("check", "tune"):
        measure(args.data, split)


if __name__ == "__main__":
    main()
