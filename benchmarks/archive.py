"""The WARC archive's cost, in one run on the same pages: crawl pages/s with and without
archiving, archive bytes per page, import-warc pages/s of that archive against the crawl's, and
reextract pages/s of the archived corpus.

Serves N article pages on 127.0.0.1 (real pages from the extraction evaluation set when it is
there, else generated ones), crawls them into a fresh SQLite file twice (NEWSDESK_ARCHIVE off,
then on), imports the archive into an empty store with ``newsdesk import-warc``, then reads the
archived crawl's articles again with ``newsdesk reextract --all``. Every rate is the article
pages over the command's whole run, from its start to its exit, so start-up weighs on each alike.

Those crawls of 127.0.0.1 wait on nothing and lift the politeness limits: they measure what
newsdesk itself costs, and both they and the import are bound by reading pages. A crawl of the
web waits on it too; so the same pages are crawled once more from a site whose every response
takes ``--latency`` seconds, with the project's own politeness (AutoThrottle, 2 requests at a
time per site), as a user's crawl of one site runs.

A shared virtual machine runs the same crawl a quarter faster or slower from one minute to the
next, more than the archive costs. So each command runs ``--rounds`` times, crawls off and on
taking turns, and each figure is its best round (as ``timeit`` takes the fastest repeat: what the
machine was slowed by is not what is measured); every round is printed too.

    .venv/bin/python benchmarks/archive.py [--pages 500] [--workers 2] [--rounds 2] [--latency 0.25]
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


#: The loopback crawls lift the politeness limits, so that they measure newsdesk's own cost: the
#: site answers at once and the crawl goes as fast as its cores read pages.
UNTHROTTLED = ("AUTOTHROTTLE_ENABLED=false", "CONCURRENT_REQUESTS=32", "CONCURRENT_REQUESTS_PER_DOMAIN=32")


def crawl(site: GeneratedSite, workers: int, workdir: Path, label: str, archive: bool, polite: bool = False) -> dict:
    """``polite``: crawl with the project's own politeness (AutoThrottle, 2 requests at a time per
    site), as a user's crawl of a real site runs."""
    (workdir / label).mkdir(parents=True)
    database = workdir / label / "crawl.db"
    stats_file = workdir / label / "stats.json"
    limits = () if polite else UNTHROTTLED
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"start_urls={site.base_url}/", "-a", f"source={label}",
        "-s", f"NEWSDESK_DATABASE_URL=sqlite:///{database}",
        "-s", f"NEWSDESK_EXTRACT_WORKERS={workers}",
        "-s", f"NEWSDESK_RESOURCE_STATS_FILE={stats_file}",
        "-s", f"NEWSDESK_ARCHIVE={archive}",
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false",
        *(argument for setting in limits for argument in ("-s", setting)),
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


def import_archive(files: list[Path], database: Path, workers: int) -> tuple[float, str]:
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
    parser.add_argument("--rounds", type=int, default=2, help="runs of each command; the best counts")
    parser.add_argument("--real-pages", type=Path, default=DEFAULT_REAL_PAGES)
    parser.add_argument("--latency", type=float, default=0.25,
                        help="seconds each response of the distant site takes (0: leave that crawl out)")
    options = parser.parse_args()
    bodies = load_bodies(options.real_pages)
    pages = options.pages
    plain, archived, distant, imports, reextracts = [], [], [], [], []
    with (
        tempfile.TemporaryDirectory() as tmp,
        GeneratedSite(pages=pages, bodies=bodies) as site,
        GeneratedSite(pages=pages, bodies=bodies, latency=options.latency) as distant_site,
    ):
        workdir = Path(tmp)
        for round_ in range(options.rounds):
            plain.append(crawl(site, options.workers, workdir / f"round{round_}", "plain", archive=False))
            archived.append(crawl(site, options.workers, workdir / f"round{round_}", "archived", archive=True))
            if options.latency:
                distant.append(crawl(distant_site, options.workers, workdir / f"round{round_}", "distant",
                                     archive=True, polite=True))  # fmt: skip
        # Each import and reextract reads the first round's archive and database afresh.
        files = sorted((workdir / "round0" / "archived" / "archive").glob("*.warc.gz"))
        for round_ in range(options.rounds):
            imports.append(import_archive(files, workdir / f"round{round_}" / "imported.db", options.workers))
            reextracts.append(reextract(archived[0]["database"], options.workers))
    # reextract reads the stored articles only (not the pages that were duplicates or no story).
    articles = int(re.match(r"([\d,]+) articles", reextracts[0][1])[1].replace(",", ""))
    rates = {
        "crawl, archive off": [figures["pages_per_second"] for figures in plain],
        "crawl, archive on": [figures["pages_per_second"] for figures in archived],
        **({f"crawl of a {options.latency:g} s site, polite": [figures["pages_per_second"] for figures in distant]}
           if distant else {}),
        "import-warc of that archive": [pages / seconds for seconds, _ in imports],
        "reextract (articles/s)": [articles / seconds for seconds, _ in reextracts],
    }
    best = {name: max(values) for name, values in rates.items()}
    crawl_rate = best["crawl, archive on"]
    imported = best["import-warc of that archive"]
    notes = {
        "crawl, archive on": f"cost {1 - crawl_rate / best['crawl, archive off']:+.1%}",
        "import-warc of that archive": f"{imported / crawl_rate:.2f}x the crawl",
        "reextract (articles/s)": f"{best['reextract (articles/s)'] / crawl_rate:.2f}x the crawl",
    }
    if distant:
        distant_rate = max(rates[f"crawl of a {options.latency:g} s site, polite"])
        notes["import-warc of that archive"] += f", {imported / distant_rate:.2f}x the polite one"
    print(f"{pages} {'real' if bodies else 'generated'} article pages, {options.workers} extraction workers, "
          f"best of {options.rounds} rounds")  # fmt: skip
    print(f"{'':34}{'pages/s':>10}   {'vs':<44}every round")
    for name, value in best.items():
        rounds = ", ".join(f"{rate:.1f}" for rate in rates[name])
        print(f"{name:34}{value:>10.1f}   {notes.get(name, ''):<44}{rounds}")
    first = archived[0]
    print(f"archive: {first['archive_bytes'] / 2**20:.1f} MB for {first['responses']} responses, "
          f"{first['archive_bytes'] / first['responses'] / 1024:.1f} KB per response (gzip per record)")  # fmt: skip
    # The crawl's own process (not its readers) does all the archiving, on a thread: its CPU time
    # with the archive on, less off, is what the archive costs for certain, whatever the machine's noise.
    cpu_off = min(figures["cpu_seconds"] for figures in plain) / plain[0]["responses"]
    cpu_on = min(figures["cpu_seconds"] for figures in archived) / first["responses"]
    print(f"crawl process CPU per response: {cpu_off * 1000:.1f} ms archive off, {cpu_on * 1000:.1f} ms on "
          f"(the archive: {(cpu_on - cpu_off) * 1000:.1f} ms; lowest of the rounds)")  # fmt: skip
    print(f"import-warc: {imports[0][1]}")
    print(f"reextract: {reextracts[0][1]}")


if __name__ == "__main__":
    main()
