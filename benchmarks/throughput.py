"""Full-crawl throughput: extraction inline vs in the worker pool, in one run.

Crawls a site of N article pages on 127.0.0.1 (real pages from the extraction evaluation set when
it is there, else generated ones) twice with the whole pipeline (extraction,
dedup, storage into a fresh SQLite file): (a) pages read inline in the crawl process, (b) in a pool
of worker processes. Prints pages/s for both, the ratio b/a, the CPU ms per page the crawl process
spends itself in (b) (everything but reading pages and writing batches: the figure that caps the
pool), and the crawl process's RSS as stored articles grow (it should stay flat).

    .venv/bin/python benchmarks/throughput.py [--pages 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.demo.generated import GeneratedSite  # noqa: E402


def crawl(site: GeneratedSite, workers: int, workdir: Path, label: str) -> dict:
    database = workdir / f"{label}.db"
    stats_file = workdir / f"{label}.json"
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"start_urls={site.base_url}/", "-a", f"source={label}",
        "-s", f"NEWSDESK_DATABASE_URL=sqlite:///{database}",
        "-s", f"NEWSDESK_EXTRACT_WORKERS={workers}",
        "-s", f"NEWSDESK_RESOURCE_STATS_FILE={stats_file}",
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "CONCURRENT_REQUESTS=32",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"crawl {label} failed:\n{result.stderr[-3000:]}")
    figures = json.loads(stats_file.read_text())
    figures["pages_per_second"] = figures["responses"] / figures["wall_seconds"]
    figures["cpu_ms_per_page"] = 1000 * figures["cpu_seconds"] / max(1, figures["responses"])
    return figures


DEFAULT_REAL_PAGES = REPO.parent / "shared" / "extraction-eval" / "html"


def load_bodies(directory: Path) -> list[bytes]:
    """Real pages make extraction cost what it costs on the web (generated ones are lighter)."""
    if str(directory) == "none" or not directory.is_dir():
        return []
    return [gzip.decompress(path.read_bytes()) for path in sorted(directory.glob("*.html.gz"))]


def megabytes(value: int | None) -> str:
    return f"{value / 2**20:.0f} MB" if value else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--real-pages",
        type=Path,
        default=DEFAULT_REAL_PAGES,
        help="serve these real article pages (*.html.gz) instead of generated ones; 'none' for generated",
    )
    options = parser.parse_args()
    bodies = load_bodies(options.real_pages)

    with GeneratedSite(pages=options.pages, bodies=bodies) as site, tempfile.TemporaryDirectory() as tmp:
        inline = crawl(site, 1, Path(tmp), "inline")
        pooled = crawl(site, options.workers, Path(tmp), "pool")

    kind = f"real article pages (from {len(bodies)} in {options.real_pages})" if bodies else "generated article pages"
    print(f"Full crawl of {options.pages} {kind} on 127.0.0.1 (SQLite, {os.cpu_count()} cores)")
    print(f"{'':34}{'(a) inline':>14}{f'(b) pool of {options.workers}':>16}")
    rows = [
        ("articles stored", lambda f: f"{f['items']}"),
        ("pages/s", lambda f: f"{f['pages_per_second']:.1f}"),
        ("crawl-process CPU ms/page", lambda f: f"{f['cpu_ms_per_page']:.2f}"),
        ("RSS at 500 articles", lambda f: megabytes(f["rss_at_items"].get("500"))),
        ("RSS at 1,000 articles", lambda f: megabytes(f["rss_at_items"].get("1000"))),
        ("RSS at the end", lambda f: megabytes(f["final_rss_bytes"])),
        ("peak RSS", lambda f: megabytes(f["peak_rss_bytes"])),
    ]
    for name, cell in rows:
        print(f"{name:34}{cell(inline):>14}{cell(pooled):>16}")
    print(f"{'throughput ratio b/a':34}{pooled['pages_per_second'] / inline['pages_per_second']:>30.2f}")


if __name__ == "__main__":
    main()
