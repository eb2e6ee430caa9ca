"""Small text helpers every metadata field shares: one cleaned line, a comparison key."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

__all__ = ["MONTHS", "clean_text", "name_key"]

MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def clean_text(value: Any) -> str | None:
    """One line of metadata text: NFC, no zero-width characters, single spaces."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if "&" in value and ";" in value:
        value = html.unescape(value)
    value = unicodedata.normalize("NFC", value).translate(_ZERO_WIDTH)
    value = " ".join(value.split())
    return value or None


def name_key(value: str) -> str:
    return re.sub(r"\W+", "", value.casefold())
