"""Crawl processes sharing one PostgreSQL frontier: pages/s with 1, 2 and 4 of them, in one run.

    .venv/bin/python benchmarks/crawl_workers.py --postgres URL [--pages 5000] [--workers 1,2,4]

Serves N article pages on 127.0.0.1 (real pages of the extraction evaluation set when it is
there, each served under many URLs with its number written in, so no two are the same story) and
crawls the site with ``newsdesk crawl --workers W`` into a fresh PostgreSQL schema, once per W,
with the whole pipeline (extraction in each process's reading pool, dedup, storage). Prints per W:
articles stored, pages/s, CPU ms per page of the crawl processes (their reading pools included),
CPU ms per page of the whole machine (PostgreSQL included, and whatever else runs), and the
lock-wait share: samples of ``pg_stat_activity`` in which a crawl's backend waited on a lock, out
of those in which it was busy.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.demo.generated import GeneratedSite  # noqa: E402
from throughput import DEFAULT_REAL_PAGES, load_bodies  # noqa: E402

APPLICATION = "newsdesk-bench-crawl"


def _machine_cpu_seconds() -> float:
    """All CPUs' busy time since boot (user, nice, system, irq, softirq, steal), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class LockSampler:
    """Samples the crawl's backends every 20 ms in a thread: busy, and waiting on a lock."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.busy = self.waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _sample(self) -> None:
        query = sa.text(
            "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE wait_event_type = 'Lock') "
            "FROM pg_stat_activity WHERE application_name = :name AND datname = current_database()"
        )
        with self.engine.connect() as conn:
            while not self._stop.wait(0.02):
                active, locked = conn.execute(query, {"name": APPLICATION}).one()
                conn.rollback()
                self.busy += active
                self.waiting += locked

    @property
    def share(self) -> float:
        return self.waiting / self.busy if self.busy else 0.0


def crawl(site: GeneratedSite, admin_url: str, workers: int, archive: Path) -> dict:
    schema = f"newsdesk_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}", "application_name": APPLICATION})
    database = url.render_as_string(hide_password=False)
    command = [
        sys.executable, "-m", "crawler.cli", "--db", database, "crawl", "--url", f"{site.base_url}/",
        "--source", f"bench{workers}", "--no-progress", *(["--workers", str(workers)] if workers > 1 else []),
        "-s", "NEWSDESK_BLOCK_PRIVATE_ADDRESSES=false", "-s", "AUTOTHROTTLE_ENABLED=false",
        "-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "-s", "DOWNLOAD_DELAY=0",
        "-s", f"NEWSDESK_ARCHIVE_DIR={archive / str(workers)}", "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
    try:
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        machine_before = _machine_cpu_seconds()
        started = time.perf_counter()
        with LockSampler(database) as locks:
            result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        machine = _machine_cpu_seconds() - machine_before
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(f"crawl with {workers} worker(s) failed:\n{result.stderr[-3000:]}")
        with admin.connect() as conn:
            stored = conn.execute(sa.text(f'SELECT count(*) FROM "{schema}".articles')).scalar_one()
            pages = conn.execute(sa.text(f'SELECT count(*) FROM "{schema}".fetch_log')).scalar_one()
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    crawl_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    return {
        "workers": workers,
        "stored": stored,
        "pages": pages,
        "pages_per_second": pages / seconds,
        "crawl_cpu_ms": 1000 * crawl_cpu / max(1, pages),
        "machine_cpu_ms": 1000 * machine / max(1, pages),
        "lock_wait_share": locks.share,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, metavar="URL", help="a PostgreSQL database to make schemas in")
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--workers", default="1,2,4", help="comma-separated crawl process counts")
    parser.add_argument(
        "--real-pages", type=Path, default=DEFAULT_REAL_PAGES,
        help="serve these real article pages (*.html.gz) instead of generated ones; 'none' for generated",
    )  # fmt: skip
    options = parser.parse_args()
    bodies = load_bodies(options.real_pages)
    counts = [int(value) for value in options.workers.split(",")]
    rows = []
    with GeneratedSite(pages=options.pages, bodies=bodies) as site, tempfile.TemporaryDirectory() as tmp:
        for workers in counts:
            print(f"crawl with {workers} process(es) ...", file=sys.stderr, flush=True)
            rows.append(crawl(site, options.postgres, workers, Path(tmp)))

    kind = f"real article pages (from {len(bodies)})" if bodies else "generated article pages"
    print(f"Crawl of {options.pages} {kind} on 127.0.0.1 into PostgreSQL ({os.cpu_count()} cores)")
    print(f"{'processes':>9}  {'stored':>6}  {'pages':>6}  {'pages/s':>7}  {'vs 1':>5}  "
          f"{'crawl CPU ms/page':>17}  {'machine CPU ms/page':>19}  {'lock-wait share':>15}")  # fmt: skip
    base = rows[0]["pages_per_second"]
    for row in rows:
        print(
            f"{row['workers']:>9}  {row['stored']:>6}  {row['pages']:>6}  {row['pages_per_second']:>7.1f}  "
            f"{row['pages_per_second'] / base:>4.2f}x  {row['crawl_cpu_ms']:>17.1f}  {row['machine_cpu_ms']:>19.1f}  "
            f"{row['lock_wait_share']:>14.1%}"
        )


if __name__ == "__main__":
    main()
