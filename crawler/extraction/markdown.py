"""The body as Markdown: its sub-headings, lists, quotes and tables, from the tree trafilatura built.

trafilatura's extraction keeps the body as XML (``head``, ``p``, ``list``/``item``, ``quote``,
``table``) before flattening it to text. :func:`structure_of` reads that tree once more, block by
block, and :func:`to_markdown` lays out the paragraphs that survived newsdesk's own cleaning in
that structure, so the Markdown always says what the plain text says, no more and no less.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trafilatura.xml import xmltotxt

from .body import normalise_paragraph

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lxml.etree import _Element

__all__ = ["structure_of", "to_markdown"]

# How a block's lines are joined to the next line of the same kind: items of one list and rows
# of one table stay together, quoted paragraphs stay in one quote.
_JOINED_KINDS = {"list": "\n", "table": "\n", "quote": "\n>\n"}


_STRUCTURED_TAGS = frozenset({"head", "list", "table", "quote"})


def structure_of(body: _Element | None) -> dict[str, tuple[str, str]]:
    """Each plain line of the body's headings, lists, tables and quotes (normalised) -> its Markdown line and kind."""
    lines: dict[str, tuple[str, str]] = {}
    if body is None:
        return lines
    for block in body:
        if block.tag not in _STRUCTURED_TAGS:
            continue  # a paragraph is its own Markdown: to_markdown's default
        for kind, markdown, plain in _block_lines(block):
            key = normalise_paragraph(plain)
            if key:
                lines.setdefault(key, (markdown, kind))
    return lines


def _block_lines(block: _Element) -> Iterable[tuple[str, str, str]]:
    """(kind, Markdown line, plain line) for each line of one top-level block."""
    tag = block.tag
    if tag == "quote":
        # A quote of paragraphs, or of bare text.
        for inner in block if len(block) else [block]:
            for plain in _plain_lines(inner):
                yield "quote", f"> {plain}", plain
        return
    plains = _plain_lines(block)
    if tag == "head":
        level = _heading_level(block.get("rend"))
        for plain in plains:
            yield "head", f"{'#' * level} {plain}", plain
    else:
        # trafilatura's plain text already writes items as "- item" and rows as "| a | b |".
        for plain in plains:
            yield tag, plain.rstrip(), plain


def _plain_lines(element: _Element) -> list[str]:
    return [line for line in xmltotxt(element, include_formatting=False).split("\n") if line.strip()]


def _heading_level(rend: str | None) -> int:
    """``rend="h3"`` -> 3; the article's own title is the h1, so body headings start at 2."""
    if rend and len(rend) == 2 and rend[0] == "h" and rend[1].isdigit():
        return min(6, max(2, int(rend[1])))
    return 2


def to_markdown(paragraphs: list[str], structure: dict[str, tuple[str, str]]) -> str:
    """The kept paragraphs in their Markdown form; a paragraph the tree does not know stays plain."""
    blocks: list[str] = []
    previous_kind = ""
    for paragraph in paragraphs:
        markdown, kind = structure.get(normalise_paragraph(paragraph), (paragraph, "p"))
        if blocks and kind == previous_kind and kind in _JOINED_KINDS:
            blocks[-1] += _JOINED_KINDS[kind] + markdown
        else:
            blocks.append(markdown)
        previous_kind = kind
    return "\n\n".join(blocks)
