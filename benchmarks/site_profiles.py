"""Site profiles: what looking up a source's profile and stripping its blocks costs per page, and
extraction F1 on `check` with and without profiles.

The real pages of ../shared/extraction-eval are extracted with newsdesk, then stored into a SQLite
file through the writer's path with site profiles on. Costs, per page, median and p95:
- lookup + strip: the profile read from the database (one query, as for the first page of a
  source in a batch) and the page's blocks fingerprinted and stripped;
- learning: the page counted into its source's profile once stored (a batch's pages are counted
  together, so a page's share of its batch's learning time).
Two ways of grouping pages into sources: by site (the set has about one page a site, so few
profiles mature), and the whole split as one source (a worst case: the profile holds every block
recurring across the set's sites, and every page is looked up against it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.extraction import DEFAULT_DATA, score_text  # noqa: E402


def extract(job: tuple[str, str, str]) -> tuple[str, str]:
    from crawler.extraction import extract_article

    page_id, path, url = job
    result = extract_article(gzip.decompress(Path(path).read_bytes()), url)
    return page_id, result.text if result else ""


def f1(pairs: list[tuple[str, str]]) -> float:
    scores = [score_text(predicted, truth) for predicted, truth in pairs]
    precisions = [p for (p, _), (predicted, _) in zip(scores, pairs, strict=True) if p is not None and predicted.strip()]
    recalls = [r for _, r in scores if r is not None]
    precision = sum(precisions) / max(1, len(precisions))
    recall = sum(recalls) / max(1, len(recalls))
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def run(
    pages: list[tuple[str, str, str]], source_of, settings, batch: int
) -> tuple[dict[str, str], list[float], list[float], int]:
    """Store ``pages`` (id, url, text) with profiles, ``batch`` pages a transaction as the writer
    does; returns the stored texts, the per-page ms of lookup + strip and of learning (a batch's
    learning time shared among the pages it counted), and the number of sources whose profile
    matured."""
    from storage import site_profiles
    from storage.articles import ArticleIn, store_article
    from storage.db import open_database
    from crawler.extraction import count_words
    from storage.models import Article, SiteProfile

    settings = replace(settings, count_words=count_words)
    lookup_ms: list[float] = []
    learn_ms: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        sessions = open_database(f"sqlite:///{folder}/profiles.db")
        for start in range(0, len(pages), batch):
            with sessions.begin() as session:
                session.connection()  # the batch's transaction, begun before its first page
                learned = []
                for page_id, url, text in pages[start:start + batch]:
                    item = ArticleIn(
                        source=source_of(url), url=url, canonical_url=url, title=None, text=text, authors=(),
                        published_at=None, modified_at=None, language="en", description=None, section=None,
                        tags=(), image_url=None, word_count=count_words(text), fetched_at=datetime.now(UTC),
                    )  # fmt: skip
                    started = time.perf_counter()
                    profiled = site_profiles.prepare_page(session, item, settings)
                    lookup_ms.append((time.perf_counter() - started) * 1000)
                    if store_article(session, profiled.item).outcome == "stored":
                        learned.append(profiled)
                if learned:
                    started = time.perf_counter()
                    site_profiles.learn_pages(session, learned, settings)
                    share = (time.perf_counter() - started) * 1000 / len(learned)
                    learn_ms.extend([share] * len(learned))
        with sessions() as session:
            texts = dict(session.query(Article.canonical_url, Article.text).all())
            matured = session.query(SiteProfile).filter(SiteProfile.matured_at.is_not(None)).count()
        sessions.kw["bind"].dispose()
    stored = {page_id: texts.get(url, "") for page_id, url, _ in pages}
    return stored, lookup_ms, learn_ms, matured


def p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", choices=("check", "tune"), default="check")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50, help="pages a transaction (NEWSDESK_STORE_BATCH_SIZE)")
    args = parser.parse_args(argv)

    from storage.site_profiles import ProfileSettings

    truth = json.loads((args.data / "ground-truth.json").read_text(encoding="utf-8"))
    split = json.loads((args.data / "splits.json").read_text(encoding="utf-8"))["pages"]
    jobs = [
        (page_id, str(args.data / "html" / f"{page_id}.html.gz"), record.get("url") or f"https://unknown.invalid/{page_id}")
        for page_id, record in sorted(truth.items())
        if split.get(page_id) == args.split
    ]
    with Pool(args.jobs) as pool:
        extracted = dict(pool.map(extract, jobs, chunksize=4))
    pages = [(page_id, url, extracted[page_id]) for page_id, _, url in jobs if extracted[page_id]]
    sites = Counter(urlsplit(url).hostname for _, url, _ in pages)
    settings = ProfileSettings()
    print(
        f"site profiles on `{args.split}`: {len(pages)} extracted pages from {len(sites)} sites "
        f"(most pages of one site: {max(sites.values())}); min_pages={settings.min_pages}, "
        f"min_block_pages={settings.min_block_pages}, min_share={settings.min_share}"
    )
    # The same storage path with a profile that never matures: what is stored without profiles.
    unprofiled, _, _, _ = run(pages, lambda url: "all", replace(settings, min_pages=sys.maxsize), args.batch)
    baseline = f1([(unprofiled.get(page_id, ""), truth[page_id].get("articleBody") or "") for page_id, _, _ in jobs])
    print("\n| grouping | profiles matured | bodies changed | F1 | lookup + strip ms median / p95 | learning ms median / p95 |")
    print("|---|---|---|---|---|---|")
    print(f"| no profiles | - | - | {baseline:.4f} | - | - |")
    for label, source_of in (("by site", lambda url: urlsplit(url).hostname or url), ("whole set as one source", lambda url: "all")):
        stored, lookup, learn, matured = run(pages, source_of, settings, args.batch)
        score = f1([(stored.get(page_id, ""), truth[page_id].get("articleBody") or "") for page_id, _, _ in jobs])
        print(
            f"| {label} | {matured} | {sum(stored[i] != unprofiled[i] for i in stored)} | {score:.4f} | {statistics.median(lookup):.3f} / {p95(lookup):.3f} "
            f"| {statistics.median(learn):.3f} / {p95(learn):.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
