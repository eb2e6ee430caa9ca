"""Hover cards glued into sentences: "Rep. Ilhan OmarIlhan Omar said" is a name link followed by
the card it opens, which repeats the name; read as text, the two run together.

The tell is a name of two to four capitalised words repeated at once with nothing between the two
copies; a name written twice on purpose has a space, a comma or a word between them. Only scripts
with capital letters show the glue, so only they are changed.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["collapse_doubled_names"]

# Up to four words from a capital on, one space apart: the second copy of a name, and what follows.
_NAME_AT = re.compile(r"[^\W\d_][\w'’-]*(?:\s[^\W\d_][\w'’-]*){1,3}")


def _ranges(codes: list[int]) -> str:
    """A regex character class body for ``codes`` (sorted), as ranges."""
    parts = []
    start = previous = codes[0]
    for code in [*codes[1:], -1]:
        if code != previous + 1:
            parts.append(re.escape(chr(start)) + (f"-{re.escape(chr(previous))}" if previous > start else ""))
            start = code
        previous = code
    return "".join(parts)


@lru_cache(maxsize=1)
def _glue() -> re.Pattern[str]:
    """A lower-case letter directly followed by a capital: where a card's text meets the link's.

    Built once from the Unicode tables (cased scripts all lie in the Basic Multilingual Plane).
    """
    lower = [code for code in range(0x10000) if chr(code).islower()]
    upper = [code for code in range(0x10000) if chr(code).isupper()]
    return re.compile(f"[{_ranges(lower)}][{_ranges(upper)}]")


def collapse_doubled_names(paragraph: str) -> str:
    """``paragraph`` with each glued doubled name ("Ilhan OmarIlhan Omar") written once."""
    glue = _glue()
    if not glue.search(paragraph):
        return paragraph
    kept = []
    position = 0
    for match in glue.finditer(paragraph):
        start = match.start() + 1  # the capital that begins a possible second copy
        name = _doubled_name_at(paragraph, start)
        if name and start - len(name) >= position:
            kept.append(paragraph[position:start])
            position = start + len(name)
    if not kept:
        return paragraph
    kept.append(paragraph[position:])
    return "".join(kept)


def _doubled_name_at(paragraph: str, start: int) -> str | None:
    """The name of two to four capitalised words that begins at ``start`` and ends just before it."""
    following = _NAME_AT.match(paragraph, start)
    if following is None:
        return None
    words = following.group().split(" ")
    for count in range(len(words), 1, -1):
        name = " ".join(words[:count])
        before = start - len(name)
        if (
            before >= 0
            and paragraph[before:start] == name
            and (before == 0 or not paragraph[before - 1].isalnum())
            and all(word[:1].isupper() for word in words[:count])
        ):
            return name
    return None
