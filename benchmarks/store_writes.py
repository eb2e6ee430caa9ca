"""Storage benchmark: insert + dedup throughput and near-duplicate lookup time.

    .venv/bin/python benchmarks/store_writes.py [--sizes 1000,10000] [--postgres URL] [--batch 100] [--writers 1,2,4]

Generates articles of ~400 words drawn from a Zipf-like vocabulary (so unrelated texts share common
words and phrases, as real news does); 20 % are syndicated near-copies of an earlier article from
another source. Each size runs on a fresh database (SQLite in a temporary directory; PostgreSQL in
a throwaway schema) migrated with Alembic, storing in batches of one transaction each. After
loading, it times the near-duplicate lookup (band-key query + candidate verification) for a sample
of articles, and prints one table.

With ``--postgres``, the same articles are then stored on PostgreSQL by 1, 2 and 4 writer
processes at once (``--writers``), each taking every N-th article, as crawl processes sharing one
database would: articles/s next to SQLite's single writer, and the lock-wait share (samples of
``pg_stat_activity`` in which a writer's backend waited on a lock, out of those in which it was
busy).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import dedup  # noqa: E402
from storage.articles import ArticleIn, store_articles  # noqa: E402
from storage.db import open_database, run_in_transaction  # noqa: E402
from storage.models import Article  # noqa: E402

WORDS_PER_ARTICLE = 400
VOCABULARY_SIZE = 30_000
NEAR_DUPLICATE_SHARE = 0.2
LOOKUP_SAMPLE = 200
T0 = datetime(2024, 1, 1, tzinfo=UTC)


class _Vocabulary:
    """Made-up words with Zipf-like frequencies; sampling via a precomputed CDF (fast)."""

    def __init__(self, rng: np.random.Generator) -> None:
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        self.words = np.array(
            ["".join(rng.choice(letters, size=rng.integers(2, 10))) for _ in range(VOCABULARY_SIZE)]
        )
        weights = 1.0 / np.arange(1, VOCABULARY_SIZE + 1) ** 1.05
        self.cdf = np.cumsum(weights / weights.sum())
        self.rng = rng

    def sample(self, size: int) -> list[str]:
        indexes = np.searchsorted(self.cdf, self.rng.random(size) * self.cdf[-1])
        return self.words[np.minimum(indexes, VOCABULARY_SIZE - 1)].tolist()


def generate(count: int, seed: int = 7) -> list[ArticleIn]:
    rng = np.random.default_rng(seed)
    vocabulary = _Vocabulary(rng)
    items: list[ArticleIn] = []
    originals: list[str] = []
    for n in range(count):
        if originals and rng.random() < NEAR_DUPLICATE_SHARE:
            original = originals[rng.integers(len(originals))].split()
            # A syndicated copy: a new opening sentence, one sentence dropped, a few words changed.
            cut = int(rng.integers(20, len(original) - 40))
            body = vocabulary.sample(15) + original[:cut] + original[cut + 15 :]
            for position, word in zip(rng.integers(0, len(body), size=5), vocabulary.sample(5)):
                body[position] = word
            text = " ".join(body)
            source = f"copy{n % 5}"
        else:
            length = int(rng.normal(WORDS_PER_ARTICLE, 60))
            text = " ".join(vocabulary.sample(max(length, 100)))
            originals.append(text)
            source = f"site{n % 10}"
        url = f"https://{source}.example/{n}"
        items.append(
            ArticleIn(
                source=source, url=url, canonical_url=url, title=f"Title {n}", text=text,
                authors=("Staff",), published_at=T0 + timedelta(minutes=n), modified_at=None,
                language="en", description=None, section="news", tags=("bench",), image_url=None,
                word_count=len(text.split()), fetched_at=T0 + timedelta(minutes=n),
            )
        )
    return items


@dataclass
class Result:
    backend: str
    size: int
    seconds: float
    clusters: int
    lookup_ms_median: float
    lookup_ms_p95: float

    @property
    def rate(self) -> float:
        return self.size / self.seconds


def _fresh_postgres(url: str) -> tuple[str, sa.Engine, str]:
    admin = sa.create_engine(url)
    schema = f"newsdesk_bench_{uuid.uuid4().hex[:10]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), admin, schema


def run(backend: str, url: str, items: list[ArticleIn], batch: int) -> Result:
    factory = open_database(url)
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        run_in_transaction(factory, lambda session, chunk=chunk: store_articles(session, chunk))
    seconds = time.perf_counter() - started

    timings = []
    step = max(1, len(items) // LOOKUP_SAMPLE)
    with factory() as session:
        clusters = session.execute(sa.select(sa.func.count(sa.distinct(Article.cluster_id)))).scalar_one()
        for item in items[::step][:LOOKUP_SAMPLE]:
            signature = dedup.minhash_signature(dedup.normalise_text(item.text))
            if signature is None:
                continue
            tick = time.perf_counter()
            dedup.find_near_duplicates(session, -1, signature, dedup.band_keys(signature))
            timings.append((time.perf_counter() - tick) * 1000)
    factory.kw["bind"].dispose()
    timings.sort()
    return Result(
        backend=backend,
        size=len(items),
        seconds=seconds,
        clusters=clusters,
        lookup_ms_median=statistics.median(timings),
        lookup_ms_p95=timings[int(len(timings) * 0.95) - 1],
    )


@dataclass
class ParallelResult:
    writers: int
    size: int
    seconds: float
    lock_wait_share: float

    @property
    def rate(self) -> float:
        return self.size / self.seconds


_WRITER_NAME = "newsdesk-bench-writer"


def _write_part(url: str, items: list[ArticleIn], batch: int, barrier) -> None:
    factory = open_database(url)
    barrier.wait(timeout=300)
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        run_in_transaction(factory, lambda session, chunk=chunk: store_articles(session, chunk), retries=10)
    factory.kw["bind"].dispose()


def run_writers(url: str, items: list[ArticleIn], batch: int, writers: int) -> ParallelResult:
    """``writers`` processes store ``items`` at once on a migrated PostgreSQL schema."""
    named = make_url(url).update_query_dict({"application_name": _WRITER_NAME}).render_as_string(hide_password=False)
    open_database(url).kw["bind"].dispose()  # migrated once, before the writers start
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers + 1)
    processes = [
        context.Process(target=_write_part, args=(named, items[i::writers], batch, barrier)) for i in range(writers)
    ]
    for process in processes:
        process.start()
    watcher = sa.create_engine(url)
    busy = waiting = 0
    sample = sa.text(
        "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE wait_event_type = 'Lock') "
        "FROM pg_stat_activity WHERE application_name = :name AND datname = current_database()"
    )
    barrier.wait(timeout=300)
    started = time.perf_counter()
    with watcher.connect() as conn:
        while any(process.is_alive() for process in processes):
            active, locked = conn.execute(sample, {"name": _WRITER_NAME}).one()
            conn.rollback()
            busy += active
            waiting += locked
            time.sleep(0.02)
    seconds = time.perf_counter() - started
    watcher.dispose()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a writer process exited with status {process.exitcode}")
    return ParallelResult(writers, len(items), seconds, waiting / busy if busy else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated article counts")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database")
    parser.add_argument("--batch", type=int, default=100, help="articles per transaction")
    parser.add_argument("--writers", default="1,2,4", help="PostgreSQL writer processes to compare")
    args = parser.parse_args(argv)
    writer_counts = [int(n) for n in args.writers.split(",") if n.strip()]
    parallel: list[ParallelResult] = []
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    results: list[Result] = []
    for size in sizes:
        print(f"generating {size} articles ...", file=sys.stderr, flush=True)
        items = generate(size)
        with tempfile.TemporaryDirectory() as directory:
            print(f"sqlite {size} ...", file=sys.stderr, flush=True)
            results.append(run("sqlite", f"sqlite:///{directory}/bench.db", items, args.batch))
        if args.postgres:
            print(f"postgresql {size} ...", file=sys.stderr, flush=True)
            url, admin, schema = _fresh_postgres(args.postgres)
            try:
                results.append(run("postgresql", url, items, args.batch))
            finally:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
            for writers in writer_counts:
                print(f"postgresql {size}, {writers} writer(s) ...", file=sys.stderr, flush=True)
                url, admin, schema = _fresh_postgres(args.postgres)
                try:
                    parallel.append(run_writers(url, items, args.batch, writers))
                finally:
                    with admin.begin() as conn:
                        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                    admin.dispose()

    header = f"{'backend':<11} {'articles':>9} {'seconds':>9} {'articles/s':>11} {'clusters':>9} {'lookup ms p50':>14} {'lookup ms p95':>14}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.backend:<11} {r.size:>9} {r.seconds:>9.1f} {r.rate:>11.0f} {r.clusters:>9} "
            f"{r.lookup_ms_median:>14.2f} {r.lookup_ms_p95:>14.2f}"
        )
    if parallel:
        sqlite_rate = {r.size: r.rate for r in results if r.backend == "sqlite"}
        header = f"\n{'writers':>7} {'articles':>9} {'seconds':>9} {'articles/s':>11} {'vs SQLite 1 writer':>19} {'lock-wait share':>16}"
        print(header)
        print("-" * (len(header) - 1))
        for p in parallel:
            print(
                f"{p.writers:>7} {p.size:>9} {p.seconds:>9.1f} {p.rate:>11.0f} {p.rate / sqlite_rate[p.size]:>18.2f}x "
                f"{p.lock_wait_share:>15.1%}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
