"""The language of a story, read from its text; what the page declares is only a hint.

Pages declare their language wrongly often enough to matter: a CMS template's ``<html lang>``
or ``og:locale`` stays "en" on a German edition, or "de" on an English one. The text decides
(py3langid, a naive Bayes model over byte n-grams; see ``benchmarks/language.py`` for how it
compares with lingua), and the declaration is used where the text cannot: too short to read,
or split between close languages (Norwegian and Danish, Malay and Indonesian).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

__all__ = ["detect_language", "load_language_model"]

logger = logging.getLogger(__name__)

# Fewer letters than this is a caption or a stub: too little for a detector to be trusted.
MIN_LETTERS = 40
# The detector's cost grows with the text; the first few paragraphs say as much as the rest.
_SAMPLE_CHARS = 1500
# Below this probability the text is ambiguous between languages and a declaration decides.
_CONFIDENT = 0.9
# A less certain reading still beats a declaration the text does not support.
_PLAUSIBLE = 0.5
_CODE = re.compile(r"[a-z]{2,3}")


@lru_cache(maxsize=1)
def load_language_model() -> LanguageIdentifier | None:
    """The detector, loaded once a process (about 1 s and 75 MB): warmed where the reading workers fork.

    None when it cannot be loaded (py3langid unpacks its model through a temporary file, which a
    full disk refuses): pages then keep the language they declare, and are read all the same.
    """
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    try:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    except OSError as exc:
        logger.error("language model not loaded (%s): languages are taken from the pages' declarations", exc)
        return None


def _ranking(sample: str) -> list[tuple[str, float]]:
    """Languages with an ISO 639-1 code, the codes the ``language`` column holds, most likely first.

    The model's regional varieties (Wu Chinese beside Mandarin, Egyptian beside Standard Arabic)
    would otherwise take Chinese and Arabic stories from their main language; their share is
    spread over the rest. (Filtering here rather than with ``set_languages`` spares a 22 MB copy
    of the model.)
    """
    ranking = [(language, score) for language, score in load_language_model().rank(sample) if len(language) == 2]
    total = sum(score for _, score in ranking) or 1.0
    return [(language, score / total) for language, score in ranking]


def detect_language(text: str, declared: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``'s language; ``declared`` (the page's own claim) breaks doubts.

    None when the text is too short or unclear and nothing is declared.
    """
    hint = _language_code(declared)
    sample = " ".join(text[: _SAMPLE_CHARS * 2].split())[:_SAMPLE_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS or load_language_model() is None:
        return hint
    ranking = _ranking(sample)
    best, probability = ranking[0]
    if probability >= _CONFIDENT:
        return best
    # Ambiguous: the declaration wins if the text makes it a serious candidate.
    if any(language == hint and score >= 1 - _CONFIDENT for language, score in ranking[:3]):
        return hint
    return best if probability >= _PLAUSIBLE else hint


def _language_code(value: str | None) -> str | None:
    """"en-GB", "de_DE", "pt-br" -> "en", "de", "pt"; None for anything that is not a code."""
    if not value:
        return None
    code = re.split(r"[-_,;\s]", value.strip().lower(), maxsplit=1)[0]
    return code if _CODE.fullmatch(code) else None
