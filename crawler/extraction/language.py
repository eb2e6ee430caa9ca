"""A cheap language guess from stopwords, for pages that do not declare one."""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["guess_language"]

# fmt: off
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(("the", "and", "of", "to", "in", "is", "that", "for", "it", "was", "with", "on", "as", "are", "be",
                     "this", "by", "have", "from", "at", "not")),
    "de": frozenset(("der", "die", "und", "das", "ist", "nicht", "zu", "den", "mit", "sich", "des", "auf", "für", "ein",
                     "eine", "dem", "im", "von", "auch")),
    "fr": frozenset(("le", "la", "les", "et", "des", "est", "un", "une", "du", "que", "pour", "dans", "qui", "pas", "sur",
                     "au", "avec", "ce", "il")),
    "es": frozenset(("el", "la", "los", "las", "de", "que", "y", "en", "un", "una", "por", "con", "para", "es", "del",
                     "se", "no", "lo", "al")),
    "it": frozenset(("il", "di", "che", "e", "la", "per", "un", "una", "non", "sono", "del", "della", "gli", "con", "le",
                     "si", "nel", "anche")),
    "pt": frozenset(("o", "a", "os", "as", "de", "que", "e", "do", "da", "em", "um", "uma", "para", "com", "não", "por",
                     "se", "dos", "das")),
    "nl": frozenset(("de", "het", "een", "en", "van", "is", "dat", "op", "te", "in", "niet", "zijn", "met", "voor",
                     "die", "er", "ook")),
    "ru": frozenset(("и", "в", "не", "на", "что", "с", "по", "это", "как", "он", "к", "из", "но", "за", "для", "от",
                     "то", "же")),
    "uk": frozenset(("і", "в", "не", "на", "що", "з", "у", "та", "це", "як", "до", "за", "від", "але", "для")),
    "pl": frozenset(("i", "w", "nie", "na", "się", "z", "że", "do", "jest", "to", "jak", "po", "od", "za", "dla")),
}
# fmt: on
_WORD = re.compile(r"\w+")


_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def guess_language(text: str) -> str | None:
    """ISO 639-1 code of the best-matching stopword list, or None when nothing is convincing."""
    sample = text[:20000]
    letters = sum(ch.isalpha() for ch in sample) or 1
    if len(_KANA.findall(sample)) > 0.1 * letters:
        return "ja"
    if len(_HANGUL.findall(sample)) > 0.3 * letters:
        return "ko"
    if len(_HAN.findall(sample)) > 0.3 * letters:
        return "zh"
    words = [w.lower() for w in _WORD.findall(sample)]
    if len(words) < 20:
        return None
    counts = Counter(words)
    scores = {lang: sum(counts[w] for w in stops) for lang, stops in _STOPWORDS.items()}
    best = max(scores, key=scores.__getitem__)
    if scores[best] < 0.08 * len(words):
        return None
    return best
