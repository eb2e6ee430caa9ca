"""The WARC archive from the command line: ``show --raw`` and ``import-warc``.

Thin over ``storage.archive`` (capture rows, WARC reading) and ``crawler.warc_import``.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy.orm import sessionmaker

from storage import archive as archive_store

__all__ = ["print_raw_page"]


def print_raw_page(sessions: sessionmaker, article_id: int, *, with_headers: bool) -> None:
    """The article's latest capture as served: its body (decompressed), headers first if asked."""
    with sessions() as session:
        captures = archive_store.captures_of_article(session, article_id)
        served = [capture for capture in captures if capture.status is not None and capture.status < 300]
        if not (served or captures):
            raise click.ClickException(
                f"article {article_id} has no archived capture (archiving was off, or it predates the archive)"
            )
        capture = archive_store.original_of(session, (served or captures)[-1])
        location = (capture.file, capture.offset)
    try:
        page = archive_store.read_capture(*location)
    except (OSError, StopIteration) as exc:
        raise click.ClickException(f"cannot read the capture at {location[0]} offset {location[1]}: {exc}") from None
    out = sys.stdout.buffer
    if with_headers:
        lines = [page.status_line, *(f"{name}: {value}" for name, value in page.headers), "", ""]
        out.write("\r\n".join(lines).encode("latin-1", "replace"))
    out.write(page.body)
    out.flush()
