"""Query benchmark: a filtered listing, full-text searches and a full export, with export memory.

    .venv/bin/python benchmarks/query.py [--rows 100000] [--postgres URL]

Loads N generated articles (~150 words each from a Zipf-like vocabulary, 8 sources, one cluster
per article) straight into a freshly migrated database (SQLite in a temporary directory;
PostgreSQL in a throwaway schema), so the FTS triggers / generated tsvector do their real work.
Then times each query (best of 3) and an export of everything, and measures the export's peak
memory in a child process at 10k rows and at all N rows: it should be flat, not grow with N.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.db import make_engine, upgrade
from storage.export import export_articles
from storage.models import Article, Cluster, Source
from storage.queries import ArticleFilter, iter_articles

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = 8
WORDS = 150
VOCABULARY = [f"w{n}" for n in range(20_000)]
# Zipf: a few words are everywhere. Cumulative once: random.choices would redo it on every call.
CUMULATIVE = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(VOCABULARY))))
LOAD_BATCH = 5_000


def load(url: str, rows: int) -> float:
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(42)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.insert(Source), [{"id": n + 1, "name": f"source{n}"} for n in range(SOURCES)])
        for start in range(0, rows, LOAD_BATCH):
            ids = range(start + 1, min(rows, start + LOAD_BATCH) + 1)
            conn.execute(sa.insert(Cluster), [{"id": i, "representative_article_id": i, "created_at": T0} for i in ids])
            articles = []
            for i in ids:
                text = " ".join(rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=WORDS))
                when = T0 + timedelta(minutes=7 * i)
                articles.append({
                    "id": i, "source_id": i % SOURCES + 1, "canonical_url": f"https://s{i % SOURCES}.example/{i}",
                    "url": f"https://s{i % SOURCES}.example/{i}", "title": " ".join(rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=8)),
                    "text": text, "authors": ["Staff"], "published_at": when, "modified_at": None, "language": "en",
                    "description": None, "section": None, "tags": [], "image_url": None, "word_count": WORDS,
                    "content_hash": f"{i:064x}", "minhash": None, "version": 1, "cluster_id": i,
                    "first_seen_at": when, "last_seen_at": when, "etag": None, "last_modified": None,
                })  # fmt: skip
            conn.execute(sa.insert(Article), articles)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE articles")
    engine.dispose()
    return time.perf_counter() - started


def best_of(url: str, f: ArticleFilter, *, snippets: bool = False, repeat: int = 3) -> tuple[float, int]:
    engine = make_engine(url, read_only=True)
    timings, count = [], 0
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            with Session(bind=engine) as session:
                count = sum(1 for _ in iter_articles(session, f, snippets=snippets))
            timings.append(time.perf_counter() - started)
    finally:
        engine.dispose()
    return min(timings), count


def export_in_child(url: str, fmt: str, limit: int | None, directory: str) -> tuple[float, int, float]:
    """(seconds, rows, peak RSS growth in MiB) of one export in a fresh process."""
    out = Path(directory) / f"export-{uuid.uuid4().hex}.{fmt}"
    done = subprocess.run(
        [sys.executable, __file__, "--child-export", url, fmt, str(limit or 0), str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds, rows, growth = done.stdout.split()
    out.unlink(missing_ok=True)
    return float(seconds), int(rows), float(growth)


def child_export(url: str, fmt: str, limit: int, out: str) -> None:
    engine = make_engine(url, read_only=True)
    with Session(bind=engine) as session:  # warm up: imports, connection, first query
        list(iter_articles(session, ArticleFilter(limit=10)))
    if fmt == "parquet":
        import pyarrow.parquet  # noqa: F401
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with Session(bind=engine) as session:
        rows = export_articles(session, ArticleFilter(sort="id", limit=limit or None), out, fmt)
    seconds = time.perf_counter() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) / 1024
    print(seconds, rows, growth)


def run(name: str, url: str, rows: int, directory: str) -> list[tuple[str, str, str]]:
    results = [(name, f"load {rows:,} articles", f"{load(url, rows):.1f} s")]
    queries = [
        ("filtered listing (source, since, 50 newest)", ArticleFilter(source="source3", since=T0 + timedelta(days=30), limit=50), False),
        ("filtered listing, all matches streamed", ArticleFilter(source="source3", min_words=100), False),
        ("full text, 2 words, 50 best + snippets", ArticleFilter(search="w120 w4000", limit=50), True),
        ("full text, phrase", ArticleFilter(search='"w1 w2"', limit=50), True),
        ("full text, prefix w199*", ArticleFilter(search="w199*", limit=50), True),
    ]  # fmt: skip
    for label, f, snippets in queries:
        seconds, count = best_of(url, f, snippets=snippets)
        results.append((name, label, f"{seconds * 1000:,.1f} ms ({count:,} rows)"))
    for fmt in ("jsonl", "parquet"):
        for limit in (10_000, None):
            seconds, count, growth = export_in_child(url, fmt, limit, directory)
            label = f"export {fmt}, {count:,} rows"
            results.append((name, label, f"{seconds:.1f} s, {count / seconds:,.0f} rows/s, peak RSS +{growth:.0f} MiB"))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", help="PostgreSQL URL; a throwaway schema is created and dropped")
    parser.add_argument("--child-export", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        url, fmt, limit, out = args.child_export
        child_export(url, fmt, int(limit), out)
        return
    results = []
    with tempfile.TemporaryDirectory() as directory:
        results += run("sqlite", f"sqlite:///{directory}/bench.db", args.rows, directory)
        if args.postgres:
            schema = f"bench_query_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = make_url(args.postgres).update_query_dict({"options": f"-csearch_path={schema}"})
            try:
                results += run("postgresql", url.render_as_string(hide_password=False), args.rows, directory)
            finally:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
    width = max(len(label) for _, label, _ in results)
    print(f"{'database':<11}  {'measure':<{width}}  result")
    for name, label, value in results:
        print(f"{name:<11}  {label:<{width}}  {value}")


if __name__ == "__main__":
    main()
