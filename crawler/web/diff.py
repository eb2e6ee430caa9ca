"""Side-by-side rows of two versions of a story, line against line (difflib)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from itertools import zip_longest

__all__ = ["DiffRow", "side_by_side"]


@dataclass(frozen=True)
class DiffRow:
    kind: str  # "equal", "replace", "delete" or "insert"
    before: str | None
    after: str | None


def side_by_side(before: str, after: str) -> list[DiffRow]:
    """Paired lines of ``before`` and ``after``; a changed run pairs its lines in order."""
    old, new = before.splitlines(), after.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        for left, right in zip_longest(old[i1:i2], new[j1:j2]):
            rows.append(DiffRow(tag, left, right))
    return rows
