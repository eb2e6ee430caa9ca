"""Could a learned ranker choose the headline better than the title rules? Tried on `tune` only.

Usage: .venv/bin/python benchmarks/title_ranker_experiment.py [--data PATH] [--l2 X]
       [--misses [--show]]

For every `tune` page of ../shared/extraction-eval (splits.json; `check` pages are never read, and
this script refuses to read them) it lists the strings the page offers as its headline: the h1s
(as the rules clean them), JSON-LD ``headline``, og:title, twitter:title and ``<title>`` verbatim
and with their site name cut by the rules, every piece of each cut at a separator, and the rules'
own choice (crawler.extraction.metadata.choose_title). Each candidate has features saying which
sources give it, how many sources agree on it (exactly and ignoring case and punctuation), how much
of the h1 it shares, and its shape (separator left inside, a site name as one of its parts, length,
capitals, quotes spelled unlike another source). A conditional logit (softmax over a page's
candidates, linear score, L2) is fitted by gradient descent in numpy and scored in 5-fold
cross-validation with folds cut by site; the rules alone are scored on the same pages.

``--misses`` sorts the rules' misses on `tune` by kind instead (typography, case, a piece kept or
cut, other wording the page offers, a title the page does not offer).

Result when written (see README, Benchmarks): the ranker does not beat the rules in
cross-validation, with or without the rules' choice among its features, so it is not shipped.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from crawler.extraction.article import parse_page_html  # noqa: E402
from crawler.extraction.metadata.record import page_title_inputs  # noqa: E402
from crawler.extraction.metadata.text import name_key  # noqa: E402
from crawler.extraction.metadata.titles import (  # noqa: E402
    _drop_page_titles,  # the experiment cleans titles exactly as choose_title does
    _without_site_name,
    choose_title,
    clean_title,
    host_keys,
    is_site_name,
    site_keys,
)

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "extraction-eval"
TRAIN_SPLIT = "tune"  # the only split this script reads

SOURCES = ("ld", "og", "tw", "title")  # record.py's order of metadata titles
_SEPARATORS = re.compile(r"\s+(?:[|\-–—·•»«:~/]|::)\s+")
_CURLY = re.compile("[\u2018\u2019\u201c\u201d]")
_WORD = re.compile(r"\w+")
_FOLD = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)

FEATURES = (
    "rule",  # the rules' choice
    "h1_first",  # the first usable h1, cleaned as the rules clean it
    "h1_other",
    "ld",  # a metadata title verbatim
    "og",
    "tw",
    "title",
    "cleaned_ld",  # a metadata title with its site name cut by the rules
    "cleaned_og",
    "cleaned_tw",
    "cleaned_title",
    "part_title",  # a separator-cut piece of <title>
    "part_other",  # a separator-cut piece of another metadata title
    "head_part",  # the piece before the first separator
    "agree_meta",  # log(1 + metadata titles giving exactly this string)
    "agree_h1",  # the first h1 and a metadata title give exactly this string
    "agree_key",  # log(1 + sources giving it, ignoring case and punctuation)
    "h1_overlap",  # Jaccard of content words with the first h1 (other candidates)
    "has_separator",
    "has_site",  # a site name is one of its separator-cut parts
    "short",  # under three words
    "words",  # log word count
    "upper",
    "lower_start",
    "curly_minority",  # curly quotes where another source has the same words straight
    "straight_minority",
)


def collapse(text: str | None) -> str:
    return " ".join((text or "").split())


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if len(w) >= 3 or w.isdigit()}


def candidates(inputs: dict) -> dict[str, dict[str, float]]:
    """Each distinct candidate string of the page and its features, the rules' choice first."""
    rule = choose_title(**inputs)
    metadata_titles = inputs["metadata_titles"]
    host = inputs["host"]
    site_names = _drop_page_titles(inputs["site_names"], metadata_titles)
    sites = (site_keys(site_names) | host_keys(host)) - {""}
    h1s = list(
        dict.fromkeys(
            clean_title(h, site_names=site_names, headlines=(), host=host) or h
            for h in inputs["h1_texts"]
            if h and len(h.split()) <= 40 and not is_site_name(h, sites)
        )
    )
    masthead_h1s = [h for h in inputs["h1_texts"] if h and is_site_name(h, sites)]
    witnesses = metadata_titles[:-1]
    cleaned: dict[int, str] = {}
    for index, title in enumerate(metadata_titles[: len(SOURCES)]):
        if not title:
            continue
        cut = clean_title(
            title,
            site_names=site_names,
            headlines=[o for o in witnesses if o and o is not title],
            visible_headlines=[h for h in h1s if name_key(h) != name_key(title)],
            host=host,
            masthead_names=inputs["masthead_names"],
        )
        if cut and not is_site_name(cut, sites):
            cleaned[index] = _without_site_name(cut, masthead_h1s)

    found: dict[str, dict[str, float]] = {}

    def add(text: str | None, name: str) -> None:
        text = collapse(text)
        if text:
            found.setdefault(text, {})[name] = 1.0

    add(rule, "rule")
    for index, h1 in enumerate(h1s):
        add(h1, "h1_first" if index == 0 else "h1_other")
    for index, source in enumerate(SOURCES):
        raw = metadata_titles[index] if index < len(metadata_titles) else None
        add(raw, source)
        add(cleaned.get(index), "cleaned_" + source)
        separators = list(_SEPARATORS.finditer(raw or ""))[:4]
        for position, separator in enumerate(separators):
            for piece in (raw[: separator.start()], raw[separator.end() :]):
                add(piece, "part_title" if source == "title" else "part_other")
            if position == 0:
                add(raw[: separator.start()], "head_part")

    first_h1 = collapse(h1s[0]) if h1s else ""
    metas = [
        collapse(cleaned.get(i) or metadata_titles[i])
        for i in range(min(len(SOURCES), len(metadata_titles)))
        if cleaned.get(i) or metadata_titles[i]
    ]
    sources = ([first_h1] if first_h1 else []) + metas
    source_keys = [name_key(s) for s in sources]
    curly_keys = {name_key(s) for s in sources if _CURLY.search(s)}
    straight_keys = {name_key(s) for s in sources if "'" in s or '"' in s}
    h1_words = _content_words(first_h1)
    for text, features in found.items():
        key = name_key(text)
        features["agree_meta"] = math.log1p(sum(m == text for m in metas))
        features["agree_h1"] = float(text == first_h1 and text in metas)
        features["agree_key"] = math.log1p(sum(k == key for k in source_keys))
        words_here = _content_words(text)
        if h1_words and words_here and text != first_h1:
            features["h1_overlap"] = len(h1_words & words_here) / len(h1_words | words_here)
        parts = _SEPARATORS.split(text)
        features["has_separator"] = float(len(parts) > 1)
        features["has_site"] = float(len(parts) > 1 and any(name_key(p) in sites for p in parts))
        words = len(_WORD.findall(text))
        features["short"] = float(words < 3)
        features["words"] = math.log1p(words)
        features["upper"] = float(text.isupper())
        features["lower_start"] = float(text[:1].islower())
        features["curly_minority"] = float(bool(_CURLY.search(text)) and key in straight_keys)
        features["straight_minority"] = float(("'" in text or '"' in text) and key in curly_keys)
    return found


def load_pages(data: Path) -> list[dict]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    split = json.loads((data / "splits.json").read_text(encoding="utf-8"))["pages"]
    pages = []
    for page_id, record in sorted(truth.items()):
        if split.get(page_id) != TRAIN_SPLIT or not record.get("title"):
            continue
        tree = parse_page_html(gzip.open(data / "html" / f"{page_id}.html.gz").read())
        readable = hasattr(tree, "xpath")  # else a Rejection: no title
        found = candidates(page_title_inputs(tree, record["url"])) if readable else {}
        texts = list(found)
        true_title = collapse(record["title"])
        pages.append(
            {
                "id": page_id,
                "site": record.get("domain") or record["url"].split("/")[2],
                "truth": true_title,
                "rule": next((t for t in texts if found[t].get("rule")), None),
                "texts": texts,
                "found": found,
                "X": np.array(
                    [[found[t].get(name, 0.0) for name in FEATURES] for t in texts]
                ).reshape(len(texts), len(FEATURES)),
                "y": np.array([t == true_title for t in texts], dtype=bool),
            }
        )
    return pages


def fit(
    pages: list[dict], l2: float, mask: np.ndarray, steps: int = 3000, rate: float = 0.5
) -> np.ndarray:
    """Weights maximising the mean log-probability of each page's true candidate, minus L2."""
    usable = [p for p in pages if p["y"].any()]
    weights = np.zeros(len(FEATURES))
    if not usable:
        return weights
    X = np.vstack([p["X"] for p in usable]) * mask
    y = np.concatenate([p["y"] for p in usable]).astype(float)
    group = np.concatenate([np.full(len(p["y"]), i) for i, p in enumerate(usable)])
    for _ in range(steps):
        scores = X @ weights
        page_max = np.full(len(usable), -np.inf)
        np.maximum.at(page_max, group, scores)
        exp = np.exp(scores - page_max[group])
        page_sum = np.zeros(len(usable))
        np.add.at(page_sum, group, exp)
        weights -= rate * (X.T @ (exp / page_sum[group] - y) / len(usable) + l2 * weights)
    return weights


def correct(page: dict, weights: np.ndarray) -> bool:
    if not len(page["y"]):
        return False
    return bool(page["y"][int(np.argmax(page["X"] @ weights))])  # ties: the rules' choice


def cross_validate(
    pages: list[dict], l2: float, mask: np.ndarray, folds: int = 5
) -> tuple[int, int, int]:
    """Pages right, won, lost against the rules, each scored by weights fitted without its site."""
    fold_of = [zlib.crc32(p["site"].encode("utf-8")) % folds for p in pages]
    right = won = lost = 0
    for fold in range(folds):
        weights = fit([p for p, f in zip(pages, fold_of) if f != fold], l2, mask)
        for page in (p for p, f in zip(pages, fold_of) if f == fold):
            ok, rule_ok = correct(page, weights * mask), page["rule"] == page["truth"]
            right += ok
            won += ok and not rule_ok
            lost += rule_ok and not ok
    return right, won, lost


def miss_kind(page: dict) -> str:
    ours, truth = page["rule"] or "", page["truth"]
    if ours.translate(_FOLD) == truth.translate(_FOLD):
        return "typography (quotes, dashes)"
    if ours.casefold() == truth.casefold():
        return "capitals"
    if name_key(ours) == name_key(truth):
        return "other punctuation or spacing"
    if name_key(truth) and (
        name_key(ours).startswith(name_key(truth)) or name_key(truth).startswith(name_key(ours))
    ):
        return "a piece kept or cut (subtitle, section, site)"
    if truth in page["found"]:
        sources = page["found"][truth]
        side = "an h1" if sources.get("h1_first") or sources.get("h1_other") else "the metadata"
        return f"other wording, the truth is {side}'s"
    if any(name_key(t) == name_key(truth) for t in page["texts"]):
        return "other wording, truth offered in other typography"
    return "the page offers no candidate equal to the truth"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--l2", type=float, default=0.01)
    parser.add_argument("--misses", action="store_true", help="sort the rules' misses by kind")
    parser.add_argument("--show", action="store_true", help="with --misses, list the pages")
    args = parser.parse_args(argv)

    pages = load_pages(args.data)
    n = len(pages)
    rules = sum(p["rule"] == p["truth"] for p in pages)
    reachable = sum(bool(p["y"].any()) for p in pages)
    print(f"{n} `{TRAIN_SPLIT}` pages with a true title")
    print(f"  rules alone                       {rules / n:.3f}")
    print(f"  some candidate is the true title  {reachable / n:.3f}")
    if args.misses:
        kinds = Counter()
        for page in pages:
            if page["rule"] != page["truth"]:
                kind = miss_kind(page)
                kinds[kind] += 1
                if args.show:
                    print(f"    {page['id']} {kind}: {page['rule']!r} / true {page['truth']!r}")
        for kind, count in kinds.most_common():
            print(f"  miss: {kind:50s} {count}")
        return 0
    for label, mask in (
        ("ranker with the rules' choice as a feature", np.ones(len(FEATURES))),
        ("ranker without it", np.array([name != "rule" for name in FEATURES], dtype=float)),
    ):
        right, won, lost = cross_validate(pages, args.l2, mask)
        print(
            f"  {label}, 5-fold CV by site: {right / n:.3f}"
            f" ({won} won, {lost} lost against the rules)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
