"""``reextract``: stored articles read again from their archived pages, with today's extractor.

The command's process picks the articles (``storage.reextraction.articles_to_reread``), takes
each one's latest archived capture off its WARC file and writes; the crawl's own reading pool
(:class:`~crawler.workers.ReadingPool`, one process per core) runs
:func:`~crawler.reading.read_page` on the pages, each with the crawl's hard timeout. The source's site profile is applied as the crawl's writer applies
it. A changed article goes through :func:`~storage.reextraction.apply_reextraction` (its previous
values kept, never a new version); every article read gets an ``article_readings`` note in the
same transaction, so a run killed at any point resumes with the articles it had not finished.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any

from crawler import settings as crawl_settings
from crawler.discovery.dates import to_utc
from crawler.discovery.scope import CrawlScope
from crawler.extraction import Article, count_words
from crawler.reading import EXTRACTOR_VERSION, ReadRequest
from crawler.workers import READING_BUG, READING_FAILURES, PendingReading, ReadingPool
from storage import archive as archive_store
from storage import site_profiles
from storage.db import open_database, require_existing, run_in_transaction
from storage.models import Article as StoredArticle
from storage.reextraction import (
    ReextractSelection,
    apply_reextraction,
    articles_to_reread,
    profile_digest,
    record_reading,
    sources_in,
)

logger = logging.getLogger(__name__)

__all__ = ["CHANGED", "ERROR", "EXTRACTOR_VERSION", "UNCHANGED", "ReextractSelection", "reextract", "with_site_profile"]

CHANGED, UNCHANGED = "changed", "unchanged"
#: Skip reasons (outcomes other than changed / unchanged).
NO_CAPTURE = "no capture"
UNREADABLE = "capture unreadable"
NOT_A_STORY = "no longer a story"
MULTI_PAGE = "multi-page story"
FAILED = "extraction failed"
#: Newsdesk's own reading code raised on the page: an error, not a skip (see READING_BUG).
ERROR = "error"
#: Articles planned, read and written per transaction.
CHUNK = 25


@dataclass(frozen=True, slots=True)
class Task:
    """One article's archived page, to be read."""

    article_id: int
    url: str
    file: str
    offset: int


@dataclass(frozen=True, slots=True)
class Reread:
    """What reading the page again gave: the article's fields, or why there are none."""

    article_id: int
    fields: dict[str, Any] | None = None
    skipped: str | None = None


def reextract(
    database_url: str,
    selection: ReextractSelection,
    *,
    workers: int,
    on_total: Callable[[int], None] | None = None,
    on_counts: Callable[[Counter], None] | None = None,
) -> Counter:
    """Read the selected articles again and update those that changed; returns the counts
    (``changed``, ``unchanged``, ``skipped/<reason>``, and ``error`` for pages newsdesk's own
    reading code failed on)."""
    require_existing(database_url)  # an archive's articles are read from a store that holds them
    sessions = open_database(database_url)
    with sessions() as session:
        profiles = {
            source: site_profiles.load_profile(session, source) if crawl_settings.NEWSDESK_SITE_PROFILES_ENABLED
            else frozenset()
            for source in sources_in(session, selection)
        }  # fmt: skip
        work = [
            (article_id, source)
            for source, profile in profiles.items()
            for article_id in articles_to_reread(
                session, selection, source, extractor_version=EXTRACTOR_VERSION, site_profile=profile_digest(profile)
            )
        ]
    if on_total is not None:
        on_total(len(work))
    counts: Counter = Counter()
    if not work:
        return counts
    pool = ReadingPool.with_project_settings(workers)
    pool.start()
    try:
        in_flight = None
        for start in range(0, len(work), CHUNK):
            chunk = work[start : start + CHUNK]
            readings = [_submit(pool, task) for task in _plan(sessions, chunk)]  # read while the last is written
            if in_flight is not None:
                _write(sessions, *in_flight, profiles, counts, on_counts)
            in_flight = (chunk, readings)
        _write(sessions, *in_flight, profiles, counts, on_counts)
    finally:
        pool.close()
    return counts


def _plan(sessions, chunk: Sequence[tuple[int, str]]) -> list[Task | Reread]:
    """Each article's capture to read, or why it has none."""
    planned: list[Task | Reread] = []
    with sessions() as session:
        for article_id, _ in chunk:
            article = session.get(StoredArticle, article_id)
            if article is None:
                continue  # deleted since it was selected: nothing to read or note
            capture = archive_store.latest_served_capture(session, article_id, article.url)
            if capture is None or capture.status is None or capture.status >= 300:
                planned.append(Reread(article_id, skipped=NO_CAPTURE))
            else:
                planned.append(Task(article_id, capture.url, capture.file, capture.offset))
    return planned


def _submit(pool: ReadingPool, task: Task | Reread) -> tuple[Task, PendingReading] | Reread:
    """The article's archived page handed to the pool, or why it cannot be read."""
    if isinstance(task, Reread):
        return task
    try:
        page = archive_store.read_capture(task.file, task.offset)
    except archive_store.UnreadableCapture as error:  # a missing file, a cut or corrupt record: its reason
        logger.warning("article %d: cannot read %s at %d: %s", task.article_id, task.file, task.offset, error)
        return Reread(task.article_id, skipped=UNREADABLE)
    if page.url != task.url:
        # Not the record the row names (the file was rewritten or replaced): never another page's text.
        logger.warning("article %d: %s at %d holds %s, not %s", task.article_id, task.file, task.offset, page.url,
                       task.url)  # fmt: skip
        return Reread(task.article_id, skipped=UNREADABLE)
    content_type = Message()
    content_type["content-type"] = next((value for name, value in page.headers if name.lower() == "content-type"), "")
    request = ReadRequest(
        url=page.url,
        scope=CrawlScope(()),  # links are not wanted
        http_charset=content_type.get_content_charset(),
        max_text_chars=crawl_settings.NEWSDESK_MAX_ARTICLE_CHARS,
        max_elements=crawl_settings.NEWSDESK_MAX_PAGE_ELEMENTS,
    )
    return task, pool.submit(page.body[: crawl_settings.NEWSDESK_MAX_HTML_BYTES], request)


def _reread(submitted: tuple[Task, PendingReading] | Reread) -> Reread:
    """What the pool's reading of the page gives the article."""
    if isinstance(submitted, Reread):
        return submitted
    task, pending = submitted
    reading = pending.reading()
    extracted = reading.extraction
    reason = getattr(extracted, "reason", None)
    if reason in READING_FAILURES:
        logger.warning("article %d: %s (%s) <%s>", task.article_id, reason, extracted.detail, task.url)
        return Reread(task.article_id, skipped=ERROR if reason == READING_BUG else FAILED)
    if reading.not_article_reason is not None or not isinstance(extracted, Article):
        return Reread(task.article_id, skipped=NOT_A_STORY)
    if reading.next_part is not None:
        # Its stored text joins every part; only the first part is read here.
        return Reread(task.article_id, skipped=MULTI_PAGE)
    return Reread(task.article_id, fields={
        "title": extracted.title,
        "text": extracted.text,
        "markdown": extracted.markdown or None,
        "authors": list(extracted.authors),
        "published_at": to_utc(extracted.published_at),
        "modified_at": to_utc(extracted.modified_at),
        "language": extracted.language,
        "description": extracted.description,
        "section": extracted.section,
        "tags": list(extracted.tags),
        "image_url": extracted.image_url,
        "word_count": extracted.word_count,
    })  # fmt: skip


def _write(sessions, chunk, readings, profiles, counts: Counter, on_counts) -> None:
    """Apply one chunk's readings in one transaction, a note for every article included; an
    article newsdesk's reading code failed on gets no note, so the next run reads it again."""
    rereads = [_reread(submitted) for submitted in readings]
    source_of = dict(chunk)

    def write(session) -> Counter:
        written: Counter = Counter()
        for result in rereads:
            profile = profiles[source_of[result.article_id]]
            outcome = result.skipped
            if outcome == ERROR:
                written[ERROR] += 1
                continue
            if outcome is None:
                fields = with_site_profile(result.fields, profile)
                changed = apply_reextraction(
                    session, result.article_id, fields, extractor_version=EXTRACTOR_VERSION,
                    reason=f"newsdesk reextract {EXTRACTOR_VERSION}",
                )  # fmt: skip
                outcome = CHANGED if changed else UNCHANGED
            record_reading(
                session, result.article_id, extractor_version=EXTRACTOR_VERSION, site_profile=profile_digest(profile),
                outcome=outcome,
            )  # fmt: skip
            written[outcome if outcome in (CHANGED, UNCHANGED) else f"skipped/{outcome}"] += 1
        return written

    counts.update(run_in_transaction(sessions, write))
    if on_counts is not None:
        on_counts(counts)


def with_site_profile(fields: dict[str, Any], profile: frozenset[int]) -> dict[str, Any]:
    """The fields with the site profile's template blocks stripped from the text and the Markdown,
    as the crawl's writer strips them (``newsdesk extract --db`` strips a page so too)."""
    text, markdown = site_profiles.strip_story(
        fields["text"], fields.get("markdown"), profile,
        max_stripped_share=crawl_settings.NEWSDESK_SITE_PROFILE_MAX_STRIPPED_SHARE,
    )  # fmt: skip
    if text == fields["text"]:
        return fields
    return {**fields, "text": text, "markdown": markdown, "word_count": count_words(text)}
