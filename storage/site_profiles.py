"""Site templates learned while crawling: the text blocks a source repeats across its story pages.

A site glues the same boxes into its story bodies ("Read also", newsletter and channel prompts,
"Found a mistake?" notices, author footers): extraction cannot tell them from the story on one
page, but across a site's pages they are the blocks that recur. Each story page stored is counted
into its source's profile: every block of its body (a paragraph), normalised (casefolded, digits
made one digit, whitespace collapsed) and hashed, with the number of pages showing it. Once a
source has ``min_pages`` pages counted, a block on at least ``min_block_pages`` of them and on
``min_share`` of the pages counted since it first appeared is template text, from then on.

Whole blocks only: a paragraph that starts like many others ("WASHINGTON (Reuters) -") and goes on
with the story has a hash of its own. A body is never stripped of most of its text
(``max_stripped_share``): a profile that would do so is wrong about that page.

The writer applies the profile to each story before storing it (its text, and its Markdown alike,
so the two say the same), and counts the story in once it is
stored; when blocks become template text, the source's stories stored before are cleaned of them
through :func:`storage.reextraction.apply_reextraction` (a re-extraction, never a new version), so a
later fetch of the same page finds the same body. Nothing here knows a site, a language or a script.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import unicodedata
import weakref
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage.db import dialect_insert
from storage.models import Article, SiteProfile, SiteProfileBlock, Source
from storage.reextraction import apply_reextraction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, SessionTransaction

    from storage.articles import ArticleIn

logger = logging.getLogger(__name__)

__all__ = [
    "ProfileSettings",
    "ProfiledPage",
    "block_key",
    "learn_pages",
    "load_profile",
    "page_block_keys",
    "prepare_page",
    "strip_story",
    "strip_template_blocks",
]

#: Blocks of an article body, as extraction joins its paragraphs.
BLOCK_SEPARATOR = "\n\n"
#: A block seen on one page only, first seen this many pages ago, is forgotten: it cannot be a
#: template any more, and a site's story paragraphs would otherwise pile up.
FORGET_AFTER_PAGES = 1_000
#: Recorded as the re-extraction's extractor when a profile re-cleans stored stories.
RECLEAN_EXTRACTOR = "site-profile"
#: How much earlier than a new template block's first page a story holding it may have been seen:
#: pages reach the writer in batches, not in the order they were fetched.
RECLEAN_MARGIN = timedelta(hours=1)
#: Stored stories re-cleaned per query while a profile grows.
RECLEAN_CHUNK = 200

_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")


def _whitespace_words(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class ProfileSettings:
    """When a profile is trusted, and how much of a body it may take."""

    #: Story pages of a source counted before its profile is used.
    min_pages: int = 10
    #: Pages a block must be seen on to be template text.
    min_block_pages: int = 5
    #: Share of the pages counted since a block first appeared (at least ``min_pages``) showing it.
    min_share: float = 0.4
    #: A body that stripping would cut by more than this share of its characters is kept whole.
    max_stripped_share: float = 0.5
    #: How a body's words are counted after stripping: the crawl hands in extraction's own
    #: (``crawler.extraction.count_words``, which counts scripts written without spaces).
    count_words: Callable[[str], int] = _whitespace_words


# --- blocks (pure) ------------------------------------------------------------------------------


def block_key(block: str) -> int | None:
    """A block's fingerprint: the same for the same text however cased, spaced or numbered.

    None for a block without a letter (a score, a bare date), which says nothing about a template.
    """
    normalised = " ".join(_DIGIT.sub("0", unicodedata.normalize("NFKC", block).casefold()).split())
    if _LETTER.search(normalised) is None:
        return None
    digest = hashlib.blake2b(normalised.encode("utf-8", "surrogatepass"), digest_size=8, person=b"newsdesk-block")
    return struct.unpack("<q", digest.digest())[0]


#: A short block that opens with a label ("Read also: <another story's headline>") is a box
#: of the template whatever it links to: its label is fingerprinted too.
_LABEL = re.compile(r"\s*([^:：.!?。]{1,40}?)\s*[:：]\s*\S")
#: Longer blocks, or labels of more words, are prose that happens to hold a colon.
MAX_LABELLED_BLOCK_CHARS = 200
MAX_LABEL_WORDS = 4


def label_key(block: str) -> int | None:
    """The fingerprint of a short block's opening label, or None when it has none."""
    if len(block) > MAX_LABELLED_BLOCK_CHARS:
        return None
    found = _LABEL.match(block)
    if found is None or len(found.group(1).split()) > MAX_LABEL_WORDS:
        return None
    return block_key("\x00label " + found.group(1))


def _block_keys(block: str) -> tuple[int, ...]:
    return tuple(key for key in (block_key(block), label_key(block)) if key is not None)


def page_block_keys(text: str) -> frozenset[int]:
    """The distinct block fingerprints of a body, each block's own and its label's (a block
    repeated on one page counts once)."""
    return frozenset(key for block in text.split(BLOCK_SEPARATOR) for key in _block_keys(block))


def strip_template_blocks(text: str, profile: frozenset[int], *, max_stripped_share: float = 0.5) -> str:
    """``text`` without the blocks in ``profile``; ``text`` itself when stripping would take more
    than ``max_stripped_share`` of its characters (or all of them)."""
    if not profile:
        return text
    blocks = text.split(BLOCK_SEPARATOR)
    kept = [block for block in blocks if profile.isdisjoint(_block_keys(block))]
    if len(kept) == len(blocks):
        return text
    stripped = BLOCK_SEPARATOR.join(kept)
    if not stripped.strip() or len(text) - len(stripped) > max_stripped_share * len(text):
        return text
    return stripped


def strip_story(
    text: str, markdown: str | None, profile: frozenset[int], *, max_stripped_share: float = 0.5
) -> tuple[str, str | None]:
    """A story's text and Markdown without the template blocks in ``profile``.

    The Markdown loses the same blocks as the text, and only when the text loses any, so the two
    keep saying the same thing (and the text alone decides the share guard)."""
    stripped = strip_template_blocks(text, profile, max_stripped_share=max_stripped_share)
    if stripped == text or not markdown:
        return stripped, markdown
    return stripped, _strip_markdown(markdown, profile)


#: How the Markdown marks a paragraph as a heading or a quote (the text holds it bare).
_MARKDOWN_MARK = re.compile(r"(?:#{1,6}|>) ")
#: The line between two paragraphs of one quote.
_QUOTE_BREAK = ">"


def _strip_markdown(markdown: str, profile: frozenset[int]) -> str:
    """The Markdown without its lines whose paragraph is in ``profile``: each paragraph of the text
    is one line of the Markdown (items of a list, rows of a table and paragraphs of a quote share
    a block)."""
    blocks = []
    for block in markdown.split(BLOCK_SEPARATOR):
        lines: list[str] = []
        for line in block.split("\n"):
            if line == _QUOTE_BREAK:
                if lines and lines[-1] != _QUOTE_BREAK:
                    lines.append(line)
            elif not _is_template_line(line, profile):
                lines.append(line)
        while lines and lines[-1] == _QUOTE_BREAK:
            lines.pop()
        if lines:
            blocks.append("\n".join(lines))
    return BLOCK_SEPARATOR.join(blocks)


def _is_template_line(line: str, profile: frozenset[int]) -> bool:
    mark = _MARKDOWN_MARK.match(line)
    keys = _block_keys(line) + (_block_keys(line[mark.end() :]) if mark else ())
    return not profile.isdisjoint(keys)


# --- the profile in the database ----------------------------------------------------------------


@dataclass(frozen=True)
class ProfiledPage:
    """A story as the writer will store it: stripped by its source's profile, with the fingerprints
    of its body as fetched (what the profile learns from)."""

    item: ArticleIn
    keys: frozenset[int]
    stripped: bool
    #: The body's characters as fetched, and how many of them were stripped as template: both
    #: None while the source's profile has not matured (nothing can be told template yet).
    body_chars: int | None = None
    template_chars: int | None = None


@dataclass(frozen=True)
class _Profile:
    blocks: frozenset[int]
    matured: bool


# Each source's profile as read in a transaction: a batch asks once per source, and a rollback
# takes what it learned with it.
_profiles: weakref.WeakKeyDictionary[SessionTransaction, dict[str, _Profile]] = weakref.WeakKeyDictionary()


def _cache(session: Session) -> dict[str, _Profile]:
    transaction = session.get_nested_transaction() or session.get_transaction()
    return _profiles.setdefault(transaction, {}) if transaction is not None else {}


# Built once: building and compiling the statement cost more than running it. One row for a
# profile without template blocks (its maturity), else one a block.
_PROFILE_OF = (
    sa.select(SiteProfile.matured_at, SiteProfileBlock.block_hash)
    .join(Source, Source.id == SiteProfile.source_id)
    .outerjoin(
        SiteProfileBlock,
        sa.and_(SiteProfileBlock.source_id == SiteProfile.source_id, SiteProfileBlock.profiled_at.is_not(None)),
    )
    .where(Source.name == sa.bindparam("source"))
)


def _profile(session: Session, source: str) -> _Profile:
    cache = _cache(session)
    if source not in cache:
        rows = session.connection().execute(_PROFILE_OF, {"source": source}).all()
        blocks = frozenset(row.block_hash for row in rows if row.block_hash is not None)
        # Blocks become template only once a profile matured; a mature profile may hold none.
        cache[source] = _Profile(blocks, any(row.matured_at is not None for row in rows))
    return cache[source]


def load_profile(session: Session, source: str) -> frozenset[int]:
    """The fingerprints of ``source``'s template blocks (empty until its profile matured)."""
    return _profile(session, source).blocks


def prepare_page(session: Session, item: ArticleIn, settings: ProfileSettings) -> ProfiledPage:
    """``item`` with its source's template blocks stripped from its text, and how much was stripped."""
    keys = page_block_keys(item.text)
    profile = _profile(session, item.source)
    body_chars = len(item.text) if profile.matured else None
    unstripped = ProfiledPage(item, keys, False, body_chars, 0 if profile.matured else None)
    if not keys & profile.blocks:
        return unstripped
    text, markdown = strip_story(
        item.text, item.markdown, profile.blocks, max_stripped_share=settings.max_stripped_share
    )
    if text == item.text:
        return unstripped
    # The fingerprint was taken of the text as fetched: storage takes it again of this one.
    stripped = replace(item, text=text, markdown=markdown, word_count=settings.count_words(text), fingerprint=None)
    return ProfiledPage(stripped, keys, True, body_chars, len(item.text) - len(text))


def learn_pages(
    session: Session, pages: Sequence[ProfiledPage], settings: ProfileSettings, *, fresh: Collection[int] = ()
) -> int:
    """Count a batch's newly stored stories into their sources' profiles; re-clean a source's
    stories when blocks became template text. Returns the number of stories re-cleaned. Never
    commits.

    The batch is counted in three statements whatever its pages and sources: counting locks each
    source's profile row until the commit, so the fewer round trips after it, the shorter other
    writers of those sources wait; rows are taken in source id order, the same in every writer.

    ``fresh``: ids of stories stored by the caller's own transaction. Their text as first stored
    was never seen by anyone, so stripping it is part of storing them, not a re-extraction."""
    conn = session.connection()
    names = {page.item.source for page in pages}
    source_ids = dict(conn.execute(sa.select(Source.name, Source.id).where(Source.name.in_(names))).all())
    by_source: dict[int, list[ProfiledPage]] = {}
    for page in pages:
        by_source.setdefault(source_ids[page.item.source], []).append(page)
    now = datetime.now(UTC)
    counts = _count_pages(conn, {source_id: len(group) for source_id, group in by_source.items()}, now)
    blocks = {
        source_id: _block_counts(group, counted_before=counts[source_id][0] - len(group))
        for source_id, group in by_source.items()
    }
    _upsert_blocks(conn, blocks)
    recleaned = 0
    for source_id, group in sorted(by_source.items()):
        counted, matured_at = counts[source_id]
        if counted // 100 > (counted - len(group)) // 100:
            _forget_single_blocks(conn, source_id, counted)
        if counted >= settings.min_pages:
            source = group[0].item.source
            recleaned += _weigh_blocks(
                session, source_id, source, counted, matured_at, blocks[source_id].keys(), settings, fresh, now
            )
    return recleaned


def _weigh_blocks(
    session: Session,
    source_id: int,
    source: str,
    counted: int,
    matured_at: datetime | None,
    keys: Collection[int],
    settings: ProfileSettings,
    fresh: Collection[int],
    now: datetime,
) -> int:
    """Mature the source's profile or grow it by the blocks that now qualify, and re-clean its
    stories if it did; returns how many were re-cleaned."""
    conn = session.connection()
    maturing = matured_at is None
    # Only blocks on these pages gained pages; on maturing, every block is weighed for the first time.
    new = _new_template_blocks(conn, source_id, counted, settings, None if maturing else keys)
    if maturing:
        conn.execute(sa.update(SiteProfile).where(SiteProfile.source_id == source_id).values(matured_at=now))
    if maturing or new:
        _cache(session).pop(source, None)
    if not new:
        return 0
    conn.execute(
        sa.update(SiteProfileBlock)
        .where(SiteProfileBlock.source_id == source_id, SiteProfileBlock.block_hash.in_(list(new)))
        .values(profiled_at=now)
    )
    profile = load_profile(session, source)
    # A story holding a block was stored or seen again since the block's first page was fetched
    # (less the time pages take from fetch to writer); on maturing, every story is looked at.
    since = None if maturing else min(new.values()) - RECLEAN_MARGIN
    recleaned = _reclean(
        conn, source_id, profile, settings, since, reason=_reason(source, len(new), maturing), fresh=fresh
    )
    logger.info(
        "site profile of %s: %d new template blocks (%d in all, %d pages counted); %d stored stories re-cleaned",
        source, len(new), len(profile), counted, recleaned,
    )  # fmt: skip
    return recleaned


@dataclass
class _BlockCount:
    """One block's pages within a batch, as the profile's row will count them."""

    pages: int
    pages_before: int
    first_seen_at: datetime
    last_seen_at: datetime


def _block_counts(pages: list[ProfiledPage], *, counted_before: int) -> dict[int, _BlockCount]:
    """The batch's blocks with their page counts; a block's ``pages_before`` is the number of the
    source's pages counted before the first page of the batch that holds it."""
    blocks: dict[int, _BlockCount] = {}
    for position, page in enumerate(pages):
        fetched = page.item.fetched_at
        seen_at = fetched.replace(tzinfo=UTC) if fetched.tzinfo is None else fetched.astimezone(UTC)
        for key in page.keys:
            count = blocks.get(key)
            if count is None:
                blocks[key] = _BlockCount(1, counted_before + position, seen_at, seen_at)
            else:
                count.pages += 1
                count.first_seen_at = min(count.first_seen_at, seen_at)
                count.last_seen_at = max(count.last_seen_at, seen_at)
    return blocks


def _upsert_blocks(conn: sa.Connection, blocks: dict[int, dict[int, _BlockCount]]) -> None:
    """Add the batch's block counts to the sources' rows, in one statement sent to the driver as it
    is: a batch of 50 real pages holds some 4,000 blocks, and SQLAlchemy's handling of each row's
    values (two datetimes each) cost more than the database's work. A datetime is converted once,
    by the column's own type; a batch's pages share a few dozen fetch times."""
    table = SiteProfileBlock.__table__
    to_database = table.c.first_seen_at.type.bind_processor(conn.dialect) or (lambda value: value)
    converted: dict[datetime, object] = {}

    def value(moment: datetime) -> object:
        if moment not in converted:
            converted[moment] = to_database(moment)
        return converted[moment]

    rows = [
        (source_id, key, count.pages, count.pages_before, value(count.first_seen_at), value(count.last_seen_at))
        for source_id in sorted(blocks)
        for key, count in sorted(blocks[source_id].items())
    ]
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} (source_id, block_hash, pages, pages_before, first_seen_at, last_seen_at) "
        f"VALUES ({', '.join([mark] * 6)}) ON CONFLICT (source_id, block_hash) DO UPDATE SET "
        f"pages = {table.name}.pages + excluded.pages, last_seen_at = excluded.last_seen_at",
        rows,
    )


def _count_pages(
    conn: sa.Connection, pages: dict[int, int], now: datetime
) -> dict[int, tuple[int, datetime | None]]:
    """Add each source's new pages to its count, locking its profile row: the new count and when
    the profile matured, by source id."""
    insert = dialect_insert(conn, SiteProfile.__table__)
    rows = conn.execute(
        insert.on_conflict_do_update(
            index_elements=["source_id"],
            set_={"pages": SiteProfile.pages + insert.excluded.pages, "updated_at": insert.excluded.updated_at},
        ).returning(SiteProfile.source_id, SiteProfile.pages, SiteProfile.matured_at, sort_by_parameter_order=True),
        [{"source_id": source_id, "pages": count, "updated_at": now} for source_id, count in sorted(pages.items())],
    )
    return {row.source_id: (row.pages, row.matured_at) for row in rows}


def _new_template_blocks(
    conn: sa.Connection, source_id: int, pages: int, settings: ProfileSettings, keys: Iterable[int] | None
) -> dict[int, datetime]:
    """Blocks that now qualify as template text, with when each was first seen."""
    query = sa.select(
        SiteProfileBlock.block_hash, SiteProfileBlock.pages, SiteProfileBlock.pages_before,
        SiteProfileBlock.first_seen_at,
    ).where(
        SiteProfileBlock.source_id == source_id,
        SiteProfileBlock.profiled_at.is_(None),
        SiteProfileBlock.pages >= settings.min_block_pages,
    )  # fmt: skip
    if keys is not None:
        query = query.where(SiteProfileBlock.block_hash.in_(list(keys)))
    return {
        row.block_hash: row.first_seen_at
        for row in conn.execute(query)
        if row.pages >= settings.min_share * max(settings.min_pages, pages - row.pages_before)
    }


def _forget_single_blocks(conn: sa.Connection, source_id: int, pages: int) -> None:
    conn.execute(
        sa.delete(SiteProfileBlock).where(
            SiteProfileBlock.source_id == source_id,
            SiteProfileBlock.profiled_at.is_(None),
            SiteProfileBlock.pages <= 1,
            SiteProfileBlock.pages_before < pages - FORGET_AFTER_PAGES,
        )
    )


def _reason(source: str, blocks: int, maturing: bool) -> str:
    event = "matured" if maturing else "grew"
    return f"site profile of {source} {event}: {blocks} template blocks stripped where found"


def _reclean(
    conn: sa.Connection,
    source_id: int,
    profile: frozenset[int],
    settings: ProfileSettings,
    since: datetime | None,
    *,
    reason: str,
    fresh: Collection[int] = (),
) -> int:
    """Strip ``profile`` from the source's stored stories (those seen since ``since``, else all);
    returns how many were re-cleaned, not counting the ``fresh`` ones (see :func:`learn_pages`)."""
    recleaned = 0
    last_id = 0
    while True:
        query = (
            sa.select(Article.id, Article.text, Article.markdown)
            .where(Article.source_id == source_id, Article.id > last_id)
            .order_by(Article.id)
            .limit(RECLEAN_CHUNK)
        )
        if since is not None:
            query = query.where(Article.last_seen_at >= since)
        rows = conn.execute(query).all()
        if not rows:
            return recleaned
        last_id = rows[-1].id
        for row in rows:
            text, markdown = strip_story(
                row.text, row.markdown, profile, max_stripped_share=settings.max_stripped_share
            )
            if text != row.text and apply_reextraction(
                conn,
                row.id,
                {"text": text, "markdown": markdown, "word_count": settings.count_words(text)},
                extractor_version=RECLEAN_EXTRACTOR,
                reason=reason,
                recorded=row.id not in fresh,
            ):
                recleaned += row.id not in fresh
