"""Language detectors side by side: accuracy and milliseconds per text, in one run.

Usage: .venv/bin/python benchmarks/language.py [--data PATH_TO_EXTRACTION_EVAL] [--limit N]

Texts: the bodies and headlines of the multilingual fixture pages (tests/unit/fixtures/pages/<lang>/,
eleven languages, seven scripts), the bodies cut to their first 80 and 30 characters (what a
teaser or a stub gives a detector), and, with --data, the true article text of the English
evaluation pages. Detectors: py3langid (newsdesk's choice), lingua in high- and low-accuracy
mode (when installed: ``pip install lingua-language-detector``), and newsdesk's own use of
py3langid (a sample of the text, no verdict where the text is too short or doubtful). Each
detector's start-up (seconds, memory) is measured apart, in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from crawler.extraction import Article, extract_article  # noqa: E402
from crawler.extraction.language import detect_language, load_language_model  # noqa: E402

FIXTURES = REPO_ROOT / "tests" / "unit" / "fixtures" / "pages"
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "extraction-eval"

Detector = Callable[[str], "str | None"]


def fixture_texts() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(language, body) and (language, headline) of each fixture page."""
    bodies, titles = [], []
    for expected_path in sorted(FIXTURES.glob("*/*.json")):
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        result = extract_article(expected_path.with_suffix(".html").read_bytes(), expected["url"])
        if isinstance(result, Article):
            bodies.append((expected["language"], result.text))
            titles.append((expected["language"], expected["title"]))
    return bodies, titles


def eval_texts(data: Path, limit: int) -> list[tuple[str, str]]:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    rows = [(row.get("language") or "en", row["articleBody"]) for row in truth.values() if row.get("articleBody")]
    return rows[:limit] if limit else rows


def cut(texts: list[tuple[str, str]], chars: int) -> list[tuple[str, str]]:
    return [(lang, " ".join(text.split())[:chars]) for lang, text in texts]


def load_detectors() -> dict[str, Detector]:
    identifier = load_language_model()
    detectors: dict[str, Detector] = {
        "py3langid": lambda text: identifier.classify(text)[0],
        # newsdesk's use of it: a sample of the text, no verdict on too few letters or a doubtful reading.
        "newsdesk detect_language": detect_language,
    }
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        print("lingua not installed (pip install lingua-language-detector): left out")
        return detectors
    high = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
    low = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().with_preloaded_language_models().build()
    detectors["lingua high accuracy"] = _lingua(high)
    detectors["lingua low accuracy"] = _lingua(low)
    return detectors


# Each detector's start-up measured in a fresh interpreter: seconds and resident memory it adds.
_LOAD_PROBES = {
    "py3langid": "from crawler.extraction.language import load_language_model as load; load()",
    "lingua high accuracy": "from lingua import LanguageDetectorBuilder as B; "
    "B.from_all_languages().with_preloaded_language_models().build()",
    "lingua low accuracy": "from lingua import LanguageDetectorBuilder as B; "
    "B.from_all_languages().with_low_accuracy_mode().with_preloaded_language_models().build()",
}
_LOAD_SCRIPT = """
import time, numpy, crawler.extraction
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
before, started = rss(), time.perf_counter()
{probe}
print(f"{{time.perf_counter() - started:.1f}} s, {{rss() - before:.0f}} MB")
"""


def load_cost(name: str) -> str:
    probe = _LOAD_PROBES.get(name)
    if probe is None:
        return "(as py3langid)"
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT.format(probe=probe)], capture_output=True, text=True, cwd=REPO_ROOT
    )
    return done.stdout.strip() or "failed"


def _lingua(detector) -> Detector:  # noqa: ANN001 — lingua is optional
    def detect(text: str) -> str | None:
        language = detector.detect_language_of(text)
        return language.iso_code_639_1.name.lower() if language is not None else None

    return detect


def measure(detect: Detector, texts: list[tuple[str, str]]) -> tuple[int, int, float, list[str]]:
    """Right answers, abstentions (None), milliseconds per text, and the wrong answers."""
    right, abstained, wrong = 0, 0, []
    started = time.perf_counter()
    for language, text in texts:
        found = detect(text)
        if found == language:
            right += 1
        elif found is None:
            abstained += 1
        else:
            wrong.append(f"{language}->{found}")
    millis = (time.perf_counter() - started) * 1000 / max(len(texts), 1)
    return right, abstained, millis, wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the extraction-eval folder")
    parser.add_argument("--limit", type=int, default=0, help="evaluation pages to use (0: all)")
    args = parser.parse_args()

    fixtures, titles = fixture_texts()
    sets = {
        f"fixture bodies ({len(fixtures)})": fixtures,
        "headlines": titles,
        "first 80 chars": cut(fixtures, 80),
        "first 30 chars": cut(fixtures, 30),
    }
    if (args.data / "ground-truth.json").exists():
        english = eval_texts(args.data, args.limit)
        sets[f"English eval bodies ({len(english)})"] = english
    else:
        print(f"no evaluation set at {args.data}: English pages left out")

    detectors = load_detectors()
    print("cells: right / texts (abstained: no answer, the page's declaration then decides), ms per text")
    header = f"{'detector':<25} {'load':>13}" + "".join(f" | {name:>30}" for name in sets)
    print(header)
    print("-" * len(header))
    all_wrong: dict[str, list[str]] = {}
    for name, detect in detectors.items():
        cells = []
        for set_name, texts in sets.items():
            right, abstained, millis, wrong = measure(detect, texts)
            note = f" ({abstained} abst.)" if abstained else ""
            cells.append(f"{right}/{len(texts)}{note} {millis:7.3f} ms")
            if wrong:
                all_wrong[f"{name} on {set_name}"] = wrong
        print(f"{name:<25} {load_cost(name):>13}" + "".join(f" | {cell:>30}" for cell in cells))
    for where, wrong in all_wrong.items():
        shown = ", ".join(wrong[:12]) + (" ..." if len(wrong) > 12 else "")
        print(f"wrong, {where}: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
