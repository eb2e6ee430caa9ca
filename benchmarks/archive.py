"""The WARC archive's cost, in one run on the same pages: crawl pages/s with and without
archiving, archive bytes per page, import-warc pages/s of that archive against the crawl's, and
reextract pages/s of the archived corpus.

Serves N article pages on 127.0.0.1 (real pages from the extraction evaluation set when it is
there, else generated ones), crawls them into a fresh SQLite file twice (NEWSDESK_ARCHIVE off,
then on), imports the archive into an empty store with ``newsdesk import-warc``, then reads the
archived crawl's articles again with ``newsdesk reextract --all``. Every rate is the article
pages over the command's whole run, from its start to its exit, so start-up weighs on each alike.

    .venv/bin/python benchmarks/archive.py [--pages 500] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throughput import DEFAULT_REAL_PAGES, load_bodies  # noqa: E402
from crawler.demo.generated import GeneratedSite  # noqa: E402


def crawl(site: GeneratedSite, workers: int, workdir: Path, label: str, archive: bool) -> dict:
    (workdir / label).mkdir()
    database = workdir / label / "crawl.db"
    stats_file = workdir / label / "stats.json"
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"start_urls={site.base_url}/", "-a", f"source={label}",
        "-s", f"NEWSDESK_DATABASE_URL=sqlite:///{database}",
        "-s", f"NEWSDESK_EXTRACT_WORKERS={workers}",
        "-s", f"NEWSDESK_RESOURCE_STATS_FILE={stats_file}",
        "-s", f"NEWSDESK_ARCHIVE={archive}",
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "CONCURRENT_REQUESTS=32",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32",
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"crawl {label} failed:\n{result.stderr[-3000:]}")
    figures = json.loads(stats_file.read_text())
    # Timed as the import and reextract are, from starting the command to its exit (Python's and
    # Scrapy's start-up included), over the article pages: the same clock and unit for all three.
    figures["pages_per_second"] = site.pages / elapsed
    figures["archive_bytes"] = sum(path.stat().st_size for path in (workdir / label / "archive").glob("*.warc.gz"))
    figures["database"] = f"sqlite:///{database}"
    return figures


def _timed(name: str, command: list[str]) -> tuple[float, str]:
    """Seconds a newsdesk command took, and its summary line (the last on stderr)."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")
    return elapsed, result.stderr.strip().splitlines()[-1]


def import_archive(files: list[Path], workdir: Path, workers: int) -> tuple[float, str]:
    database = workdir / "imported.db"
    command = [sys.executable, "-m", "crawler.cli", "--db", f"sqlite:///{database}", "import-warc",
               *map(str, files), "--workers", str(workers)]  # fmt: skip
    return _timed("import-warc", command)


def reextract(database: str, workers: int) -> tuple[float, str]:
    command = [sys.executable, "-m", "crawler.cli", "--db", database, "reextract", "--all", "--workers", str(workers)]
    return _timed("reextract", command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--real-pages", type=Path, default=DEFAULT_REAL_PAGES)
    options = parser.parse_args()
    bodies = load_bodies(options.real_pages)
    with tempfile.TemporaryDirectory() as tmp, GeneratedSite(pages=options.pages, bodies=bodies) as site:
        workdir = Path(tmp)
        plain = crawl(site, options.workers, workdir, "plain", archive=False)
        archived = crawl(site, options.workers, workdir, "archived", archive=True)
        files = sorted((workdir / "archived" / "archive").glob("*.warc.gz"))
        seconds, summary = import_archive(files, workdir, options.workers)
        reextract_seconds, reextract_summary = reextract(archived["database"], options.workers)
    pages = options.pages
    cost = 1 - archived["pages_per_second"] / plain["pages_per_second"]
    print(f"{pages} {'real' if bodies else 'generated'} article pages, {options.workers} extraction workers")
    print(f"{'':32}{'pages/s':>10}")
    print(f"{'crawl, archive off':32}{plain['pages_per_second']:>10.1f}")
    print(f"{'crawl, archive on':32}{archived['pages_per_second']:>10.1f}   cost {cost:+.1%}")
    import_rate = pages / seconds
    print(f"{'import-warc of that archive':32}{import_rate:>10.1f}   "
          f"{import_rate / archived['pages_per_second']:.2f}x the crawl")  # fmt: skip
    # reextract reads the stored articles only (not the pages that were duplicates or no story).
    reextract_rate = int(re.match(r"([\d,]+) articles", reextract_summary)[1].replace(",", "")) / reextract_seconds
    print(f"{'reextract (articles/s)':32}{reextract_rate:>10.1f}   "
          f"{reextract_rate / archived['pages_per_second']:.2f}x the crawl")  # fmt: skip
    print(f"archive: {archived['archive_bytes'] / 2**20:.1f} MB for {archived['responses']} responses, "
          f"{archived['archive_bytes'] / archived['responses'] / 1024:.1f} KB per response (gzip per record)")  # fmt: skip
    print(f"import-warc: {summary}")
    print(f"reextract: {reextract_summary}")


if __name__ == "__main__":
    main()
