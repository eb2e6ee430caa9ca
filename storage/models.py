"""Typed SQLAlchemy models for the newsdesk corpus.

The schema itself is owned by Alembic (``migrations/``); these models describe it for the ORM and
for ``alembic check``. Tables are never created from this metadata outside tests.

Every datetime is stored and returned timezone-aware in UTC, on PostgreSQL (``timestamptz``) and on
SQLite (which has no time zones: values are stored as naive UTC and get UTC attached on load).
See ``docs/schema.md`` for what each table means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Article",
    "ArticleReading",
    "ArticleUrl",
    "ArticleSignals",
    "ArticleVersion",
    "Base",
    "Capture",
    "Cluster",
    "CrawlRun",
    "DeadLetter",
    "DedupKey",
    "FetchLog",
    "FrontierEntry",
    "HealthAck",
    "Host",
    "HostFetch",
    "SiteSignals",
    "Reextraction",
    "SiteProfile",
    "SiteProfileBlock",
    "Source",
    "SourceLock",
    "StoreLock",
    "UTCDateTime",
    "WarcImportFile",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` that always hands back aware UTC datetimes.

    Naive datetimes given to it are taken to be UTC already (the crawler normalises to UTC).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite compares datetimes as strings: one fixed, offset-free format keeps order right.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL (indexable and queryable with the jsonb operators).
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
        dict[str, int]: JSONType,
    }


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)


class Cluster(Base):
    """A group of near-duplicate articles (one story, possibly syndicated across sources).

    Every article belongs to exactly one cluster; an article with no near-duplicate is alone in its
    own cluster. ``representative_article_id`` is the earliest-published member (ties broken by
    canonical URL); it is kept consistent by ``storage.dedup`` rather than by a foreign key, because
    clusters and articles refer to each other.
    """

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    representative_article_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    created_at: Mapped[datetime]


class Article(Base):
    """One row per canonical article: its current text and metadata."""

    __tablename__ = "articles"
    __table_args__ = (
        sa.Index("ix_articles_source_id_published_at", "source_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id"))
    canonical_url: Mapped[str] = mapped_column(sa.Text, unique=True)
    url: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str | None] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    #: The body as Markdown (sub-headings, lists, quotes, tables); None for rows stored before it.
    markdown: Mapped[str | None] = mapped_column(sa.Text)
    authors: Mapped[list[str]]
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(sa.String(35))
    description: Mapped[str | None] = mapped_column(sa.Text)
    section: Mapped[str | None] = mapped_column(sa.Text)
    tags: Mapped[list[str]]
    image_url: Mapped[str | None] = mapped_column(sa.Text)
    word_count: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    minhash: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    version: Mapped[int] = mapped_column(default=1)
    cluster_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clusters.id"), index=True)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    etag: Mapped[str | None] = mapped_column(sa.Text)
    last_modified: Mapped[str | None] = mapped_column(sa.Text)
    #: When a re-fetch found the story gone (404, 410, a redirect to the home page); None while
    #: it is published. Kept with its versions; the read path hides it unless asked.
    removed_at: Mapped[datetime | None] = mapped_column(index=True)


class ArticleVersion(Base):
    """Every distinct body an article has had; version 1 is the first one seen."""

    __tablename__ = "article_versions"
    __table_args__ = (sa.UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str | None] = mapped_column(sa.Text)
    text: Mapped[str] = mapped_column(sa.Text)
    seen_at: Mapped[datetime]


class ArticleUrl(Base):
    """Every URL (rendition, fetched variant or alias) known to lead to an article."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text, unique=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    first_seen_at: Mapped[datetime]
    #: What the URL is to its story (``storage.renditions.Rendition``): canonical, amp, print, ...
    rendition: Mapped[str] = mapped_column(sa.String(16), server_default="other")
    #: The body last read at this URL; None for a URL only declared, never fetched. A change here
    #: is the publisher's edit; a difference between two URLs of a story is not.
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))


class DedupKey(Base):
    """MinHash LSH band keys: articles sharing a (band, bucket) are near-duplicate candidates.

    ``bucket`` hashes the band number too, so it leads the primary key and lookups use it alone.
    """

    __tablename__ = "dedup_keys"

    bucket: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    band: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str | None] = mapped_column(sa.String(200))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(32), default="running")
    counts: Mapped[dict[str, int]]
    error: Mapped[str | None] = mapped_column(sa.Text)
    #: The crawl process (host:pid) that ran it; several workers of one crawl are several runs.
    worker: Mapped[str | None] = mapped_column(sa.String(300))
    #: The run's last heartbeat: a ``running`` run silent for long was killed (``storage.runs``).
    seen_at: Mapped[datetime | None]


class FetchLog(Base):
    __tablename__ = "fetch_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[int | None]
    bytes: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    article_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("articles.id", ondelete="SET NULL")
    )
    fetched_at: Mapped[datetime]
    #: A story's body characters as read, and those stripped as site template (storage.health's
    #: template share); NULL where not measured (not a story, or no mature site profile yet).
    body_chars: Mapped[int | None]
    template_chars: Mapped[int | None]


class DeadLetter(Base):
    """Items that could not be stored, kept with their payload for replay."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str | None] = mapped_column(sa.String(200))
    payload: Mapped[dict[str, Any]]
    error: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


class FrontierEntry(Base):
    """One URL of a source's crawl frontier: pending -> leased -> done / failed (see storage.frontier)."""

    __tablename__ = "frontier"
    __table_args__ = (
        sa.UniqueConstraint("source", "url"),
        sa.Index("ix_frontier_source_state_priority", "source", "state", "priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(200))
    url: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: Lists stories (a start URL, a home, section or tag page): fetched again on every run.
    hub: Mapped[bool] = mapped_column(server_default=sa.false())
    #: A hub's template as last read (space-separated class-path hashes): pages built like the
    #: host's hubs are hubs (crawler.discovery.pagetype).
    template: Mapped[str | None] = mapped_column(sa.Text)
    #: The site's frame (menu, footer) links this URL from nearly every page: an undated, unsigned
    #: page so linked is a service page (crawler.discovery.pagetype).
    chrome: Mapped[bool] = mapped_column(server_default=sa.false())
    depth: Mapped[int]
    priority: Mapped[int]
    state: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int]
    lease_owner: Mapped[str | None] = mapped_column(sa.String(300))
    lease_expires_at: Mapped[datetime | None]
    discovered_at: Mapped[datetime]
    lastmod: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    run_id: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(sa.String(32))
    etag: Mapped[str | None] = mapped_column(sa.Text)
    last_modified: Mapped[str | None] = mapped_column(sa.Text)


class Host(Base):
    """A host as every crawl process sees it (see ``storage.hosts``): when a request last started
    there, the pace asked of it, a Retry-After pause, and its robots.txt as last fetched."""

    __tablename__ = "hosts"

    #: The URL's netloc (``example.com``, ``127.0.0.2:8080``): robots.txt is per origin.
    host: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    last_start_at: Mapped[datetime | None]
    #: The crawl's DOWNLOAD_DELAY and CONCURRENT_REQUESTS_PER_DOMAIN, as the last worker set them.
    delay_seconds: Mapped[float] = mapped_column(sa.Float, server_default="0")
    concurrency: Mapped[int] = mapped_column(server_default="1")
    #: ``Crawl-delay`` of the robots.txt rules for newsdesk, when it gives one.
    crawl_delay: Mapped[float | None] = mapped_column(sa.Float)
    #: No request starts before this (a 429 or 503 with Retry-After).
    paused_until: Mapped[datetime | None]
    robots_status: Mapped[int | None]
    robots_body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    #: Why robots.txt could not be read (a timeout, HTTP 503): the host is refused meanwhile.
    robots_error: Mapped[str | None] = mapped_column(sa.Text)
    robots_fetched_at: Mapped[datetime | None]
    #: The process fetching robots.txt now, and until when the others wait for it.
    robots_claimed_by: Mapped[str | None] = mapped_column(sa.String(300))
    robots_claimed_until: Mapped[datetime | None]


class HostFetch(Base):
    """A request on the wire to a host: counted against its concurrency until it answers, or until
    ``expires_at`` when its process died before saying so."""

    __tablename__ = "host_fetches"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(sa.ForeignKey("hosts.host", ondelete="CASCADE"), index=True)
    owner: Mapped[str] = mapped_column(sa.String(300))
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class StoreLock(Base):
    """A key the write path locks (its row) while it stores an article that touches it: see
    ``storage.articles``. One row per canonical URL, body hash or LSH band key ever written."""

    __tablename__ = "store_locks"

    key: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)


class SourceLock(Base):
    """Who is crawling a source right now: one row per source while a scheduled crawl runs.

    A row whose ``expires_at`` has passed is free to take: a runner that crashed without releasing
    its lock blocks its source only until then. See ``storage.locks``.
    """

    __tablename__ = "source_locks"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(300))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ArticleSignals(Base):
    """What the publisher said about the use of an article, as of its latest capture.

    ``tdm_reserved`` is the TDMRep reservation that applies after the spec's precedence
    (``tdm_origin``: meta, header or well-known); None when no place declared one. ``free`` is
    schema.org ``isAccessibleForFree`` (None: not stated); ``paywall_truncated`` says the body
    stored stops where the paywall starts. See ``crawler.extraction.signals``.
    """

    __tablename__ = "article_signals"

    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    captured_at: Mapped[datetime]
    tdm_reserved: Mapped[bool | None] = mapped_column(index=True)
    tdm_policy: Mapped[str | None] = mapped_column(sa.Text)
    tdm_origin: Mapped[str | None] = mapped_column(sa.String(16))
    noindex: Mapped[bool] = mapped_column(server_default=sa.false())
    noarchive: Mapped[bool] = mapped_column(server_default=sa.false(), index=True)
    nosnippet: Mapped[bool] = mapped_column(server_default=sa.false())
    noai: Mapped[bool] = mapped_column(server_default=sa.false())
    noimageai: Mapped[bool] = mapped_column(server_default=sa.false())
    content_usage: Mapped[str | None] = mapped_column(sa.Text)
    free: Mapped[bool | None]
    paywall_selectors: Mapped[list[str]]
    paywall_truncated: Mapped[bool] = mapped_column(server_default=sa.false())


class SiteSignals(Base):
    """A site's own word on its use, as last read by a crawl: its tdmrep.json and its robots.txt
    rules for known AI crawlers next to ours (``robots``: see ``crawler.discovery.ai_agents``)."""

    __tablename__ = "site_signals"

    site: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    source: Mapped[str | None] = mapped_column(sa.String(200))
    checked_at: Mapped[datetime]
    #: The rules of /.well-known/tdmrep.json (None: no file), and what was wrong with it.
    tdmrep: Mapped[dict[str, Any] | None]
    tdmrep_error: Mapped[str | None] = mapped_column(sa.Text)
    robots: Mapped[dict[str, Any] | None]


class HealthAck(Base):
    """A source's health state someone has seen: silenced until the state changes."""

    __tablename__ = "health_acks"

    source: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    #: The state acknowledged: its status and the kinds of its reasons (not their figures).
    state: Mapped[str] = mapped_column(sa.Text)
    acknowledged_at: Mapped[datetime]
class SiteProfile(Base):
    """What the crawl has learned of a source's template: how many of its story pages it counted,
    and when enough were counted for the profile to be used (see ``storage.site_profiles``)."""

    __tablename__ = "site_profiles"

    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    pages: Mapped[int]
    matured_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class SiteProfileBlock(Base):
    """One normalised text block of a source's story pages and on how many of them it was seen.

    ``pages_before`` is the source's page count when the block was first seen: its share is taken
    over the pages counted since. ``profiled_at`` is set once the block counts as template text.
    """

    __tablename__ = "site_profile_blocks"
    # The profile is read on every batch: its template blocks, not the source's every block.
    __table_args__ = (sa.Index("ix_site_profile_blocks_source_id_profiled_at", "source_id", "profiled_at"),)

    source_id: Mapped[int] = mapped_column(sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    block_hash: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    pages: Mapped[int]
    pages_before: Mapped[int]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    profiled_at: Mapped[datetime | None]


class Reextraction(Base):
    """A stored story read again (a better extractor, a site profile that matured): not a new
    version of the story, so the fields it changed are kept here as they were."""

    __tablename__ = "reextractions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    extractor_version: Mapped[str] = mapped_column(sa.String(100))
    reason: Mapped[str] = mapped_column(sa.Text)
    previous: Mapped[dict[str, Any]]
class ArticleReading(Base):
    """The last reading of an article: with which extractor version and site profile (a digest of
    its template blocks), and what came of it: ``fetched`` when a crawl or an import stored it,
    else what ``reextract`` found reading it from its capture (changed, unchanged, or why it was
    skipped)."""

    __tablename__ = "article_readings"

    article_id: Mapped[int] = mapped_column(sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    extractor_version: Mapped[str] = mapped_column(sa.String(100))
    site_profile: Mapped[str] = mapped_column(sa.String(64))
    read_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(sa.String(100))


class Capture(Base):
    """Where one fetch lies in the WARC archive: its record's file, offset and length.

    Written only after the record is on disk (fsynced), so a row never points at a partial record.
    A ``revisit`` record (same payload as the URL's previous capture) names the response record it
    stands for in ``refers_to``. Imported WARC records get rows too, pointing into the file read.
    """

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text, index=True)
    fetched_at: Mapped[datetime]
    status: Mapped[int | None]
    #: ``response`` or ``revisit``.
    record_type: Mapped[str] = mapped_column(sa.String(16))
    #: The record's WARC-Record-ID (``<urn:uuid:...>``).
    record_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    refers_to: Mapped[str | None] = mapped_column(sa.String(64))
    file: Mapped[str] = mapped_column(sa.Text)
    offset: Mapped[int] = mapped_column(sa.BigInteger)
    length: Mapped[int] = mapped_column(sa.BigInteger)
    #: WARC-Payload-Digest of the body as served (``sha1:`` base32).
    payload_digest: Mapped[str] = mapped_column(sa.String(64))
    article_id: Mapped[int | None] = mapped_column(sa.ForeignKey("articles.id", ondelete="SET NULL"), index=True)


class WarcImportFile(Base):
    """One WARC file of an import, leased by one worker at a time (see ``storage.archive``).

    A lease that expires (its worker died) goes to the next worker that asks; ``done`` files are
    not read again.
    """

    __tablename__ = "warc_import_files"

    path: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    lease_owner: Mapped[str | None] = mapped_column(sa.String(300))
    lease_expires_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: Records read, stored and skipped (by reason) when the file was done.
    counts: Mapped[dict[str, int] | None]


# --- full-text search objects (migration 0004) -------------------------------------------------
# Created by raw DDL and not describable as models: the SQLite FTS5 table (with its shadow tables)
# and PostgreSQL's generated tsvector column and its GIN index. `alembic check` and autogenerate
# skip them through this filter (migrations/env.py passes it as include_object).
SEARCH_TABLE_PREFIX = "articles_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_articles_search_vector"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: False for the full-text search objects only."""
    if not reflected or name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_TABLE_PREFIX)
    if type_ == "column":
        return not (name == SEARCH_COLUMN and obj.table.name == "articles")
    if type_ == "index":
        return name != SEARCH_INDEX
    return True
