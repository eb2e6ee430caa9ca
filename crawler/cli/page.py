"""``newsdesk extract``: what newsdesk makes of one page, or of many files in parallel.

One page (a file, an http(s) URL or - for stdin) is fetched behind the crawl's address guard and
printed; a failure is the command's one-line error. Many (several targets, a directory, a glob)
are read over a pool of worker processes, one per core, each page with the crawl's hard timeout:
a page that cannot be read is a recorded reason and the others go on.

With ``--db``, the page is typed with what the crawl has learnt of its site (the templates of the
hubs it knows), as the crawl types it, and its story is stripped of the template blocks its
source's profile learnt, as the crawl stores it.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import sys
import zlib
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler import settings as crawl_settings
from crawler.cli.errors import handle_user_errors
from crawler.cli.output import markdown_document

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from crawler.discovery.scope import CrawlScope

__all__ = ["EXTRACT_MAX_BYTES", "extract"]

FORMATS = ("json", "jsonl", "text", "markdown")
_SUFFIXES = {"json": ".json", "jsonl": ".json", "text": ".txt", "markdown": ".md"}
_GLOB_CHARACTERS = frozenset("*?[")


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@click.option("--url", "page_url", default=None, help="The page's URL, for one FILE or - (resolves relative links).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="json (the default for one page), jsonl (for many), text or markdown.")  # fmt: skip
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write one file per page here instead of to stdout.")  # fmt: skip
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes for many pages [default: cores].")
@click.option(
    "--allow-private",
    is_flag=True,
    help="Fetch from loopback and private addresses too (refused by default, as in a crawl).",
)
@click.option(
    "--db",
    "store_url",
    default=None,
    help="Read pages with what crawls into this database learnt of their sites (hubs, frame, "
    "template blocks), as the crawl does.",
)
@click.option(
    "--source",
    "source_name",
    default=None,
    help="With --db: the source whose site template to strip [default: the one the page's site was crawled as].",
)
@click.option(
    "--sources", "sources_path", default=None,
    help="With --db: the sources file telling whose sites are whose (env NEWSDESK_SOURCES; default ./sources.toml).",
)  # fmt: skip
@click.pass_context
@handle_user_errors
def extract(
    ctx: click.Context,
    targets: tuple[str, ...],
    page_url: str | None,
    fmt: str | None,
    output_dir: Path | None,
    jobs: int | None,
    allow_private: bool,
    store_url: str | None,
    source_name: str | None,
    sources_path: str | None,
) -> None:
    """What newsdesk makes of pages: each TARGET is a file, a directory, a glob, an http(s) URL, or -.

    One page prints its record or a one-line reason; many print one record each (a reason in
    place of a page that is not an article or cannot be read) in the order given, with a progress
    bar on a terminal, and exit non-zero when a page could not be read.
    """
    from crawler.normalize import canonical_url_or_none

    if page_url is not None and canonical_url_or_none(page_url) is None:
        raise click.BadParameter(f"{page_url[:200]!r} is no web address (a bad port or host)", param_hint="--url")
    sources = _expand(targets)
    store_url = store_url or ctx.find_root().params.get("database_url")
    if store_url is None and (source_name or sources_path):
        raise click.UsageError("--source and --sources name a store's sources: give --db too")
    known_hubs, chrome, templates = (
        _site_evidence(store_url, source_name, sources_path) if store_url else ((), frozenset(), None)
    )
    if len(sources) == 1 and len(targets) == 1 and not _is_many(targets[0]) and output_dir is None:
        kind, value = _extract_one(
            sources[0], allow_private=allow_private, page_url=page_url, known_hubs=known_hubs, chrome=chrome
        )
        if templates is not None:
            kind, value = templates.strip(kind, value)
        if kind != "article":
            raise click.ClickException(value)
        click.echo(_render(value, fmt or "json", sources[0]), nl=False)
        return
    if page_url is not None:
        raise click.UsageError("--url names one page: give it with a single FILE or -")
    if not sources:
        raise click.ClickException(f"no files match {' '.join(targets)[:200]}")
    # Read here: the pages are read in worker processes, which get no stdin.
    stdin = sys.stdin.buffer.read(EXTRACT_MAX_BYTES + 1) if "-" in sources else None
    read = partial(_extract_one, allow_private=allow_private, known_hubs=known_hubs, chrome=chrome, stdin=stdin)
    _extract_many(sources, fmt or "jsonl", output_dir, jobs or os.cpu_count() or 1, read, templates)


#: Hub templates and frame-linked URLs read from the store for ``--db``.
MAX_STORED_HUBS = 5000
MAX_STORED_CHROME = 5000


def _site_evidence(
    store_url: str, source_name: str | None, sources_path: str | None
) -> tuple[tuple[tuple[str, frozenset[str]], ...], frozenset[str], SiteTemplates]:
    """What crawls into the store learnt of sites: (URL, template) of the hubs they read and the
    URLs the sites' frames link, for page typing; the sources' template blocks, for stripping."""
    from crawler.sources import SOURCES_ENV, load_sources, resolve_sources_path
    from storage import browse, frontier, site_profiles
    from storage.db import open_read_only, resolve_database_url

    path = resolve_sources_path(sources_path)
    # Without a sources file, only sources named after their site (crawl --url's) are known.
    named = load_sources(path) if sources_path or os.environ.get(SOURCES_ENV) or path.is_file() else {}
    with open_read_only(resolve_database_url(store_url))() as session:
        hubs = frontier.hub_templates(session, limit=MAX_STORED_HUBS)
        chrome = frontier.chrome_urls(session, limit=MAX_STORED_CHROME)
        stored = browse.list_sources(session)
        if source_name is not None and source_name not in stored:
            raise click.ClickException(f"no source named {source_name!r} in the store")
        # Profiles are the crawl's only when it strips with them.
        profiles = {
            name: blocks
            for name in (stored if crawl_settings.NEWSDESK_SITE_PROFILES_ENABLED else ())
            if (blocks := site_profiles.load_profile(session, name))
        }
    templates = SiteTemplates(profiles, {name: source.scope for name, source in named.items()}, source_name)
    return tuple((url, frozenset(template.split())) for url, template in hubs), frozenset(chrome), templates


@dataclasses.dataclass(frozen=True)
class SiteTemplates:
    """The template blocks the store's sources learnt, and which source a page is of."""

    #: Each source's template blocks, for sources whose profile matured with some.
    profiles: Mapping[str, frozenset[int]]
    #: The sources file's sources and the pages each one's crawl owns.
    named: Mapping[str, CrawlScope]
    #: The source --source named, whatever the page's address.
    source: str | None = None

    def sources_of(self, url: str) -> list[str]:
        """The sources with a template that a crawl could have stored the page under: a named
        source owning its address, and the source named after its site (crawl --url's)."""
        if self.source is not None:
            return [self.source]
        from crawler.normalize import site_key

        names = {name for name, scope in self.named.items() if url in scope} | {site_key(url)}
        return sorted(names & self.profiles.keys())

    def strip(self, kind: str, value: Any) -> tuple[str, Any]:
        """An article's record stripped of its source's template blocks, through the function
        reextract uses to strip as the crawl's writer does; any other outcome as it is."""
        if kind != "article":
            return kind, value
        names = self.sources_of(value["url"])
        if len(names) > 1:
            return "failed", f"the page's site was crawled as {' and '.join(names)}: choose one with --source"
        if not names:
            return kind, value
        from crawler.reextract import with_site_profile

        return kind, with_site_profile(value, self.profiles.get(names[0], frozenset()))


# -- many pages ---------------------------------------------------------------------------------


def _is_many(target: str) -> bool:
    return "://" not in target and target != "-" and (os.path.isdir(target) or _is_glob(target))


def _is_glob(target: str) -> bool:
    return not os.path.exists(target) and bool(_GLOB_CHARACTERS.intersection(target))


def _expand(targets: tuple[str, ...]) -> list[str]:
    """Every page the targets name, in order: a directory's files (recursively, sorted), a glob's matches."""
    sources: list[str] = []
    for target in targets:
        if "://" in target or target == "-":
            sources.append(target)
        elif os.path.isdir(target):
            sources.extend(
                str(path)
                for path in sorted(Path(target).rglob("*"))
                if path.is_file() and not any(part.startswith(".") for part in path.relative_to(target).parts)
            )
        elif _is_glob(target):
            sources.extend(sorted(path for path in glob.glob(target, recursive=True) if os.path.isfile(path)))
        else:
            sources.append(target)  # a missing file is that page's recorded reason
    return sources


def _extract_many(
    sources: list[str],
    fmt: str,
    output_dir: Path | None,
    jobs: int,
    read: Callable[[str], tuple[str, Any]],
    templates: SiteTemplates | None,
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    stderr = Console(stderr=True)
    counts = {"article": 0, "rejected": 0, "failed": 0}
    names: set[str] = set()
    records: list[dict[str, Any]] = []
    progress = Progress(
        TextColumn("extract"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=stderr, disable=not stderr.is_terminal, transient=True,
    )  # fmt: skip
    with progress:
        task = progress.add_task("extract", total=len(sources))
        results = _results(sources, jobs, read)
        for source, (kind, value) in zip(sources, results, strict=True):
            if templates is not None:
                kind, value = templates.strip(kind, value)
            counts[kind] += 1
            progress.advance(task)
            if kind != "article":
                stderr.print(f"{source}: {value}", markup=False, highlight=False, soft_wrap=True)
            if fmt == "json" and output_dir is None:
                records.append(_record(source, kind, value))
            elif output_dir is not None:
                if kind == "article":
                    target = output_dir / _file_name(source, _SUFFIXES[fmt], names)
                    target.write_text(_render(value, fmt, source), encoding="utf-8")
            elif fmt == "jsonl":
                click.echo(json.dumps(_record(source, kind, value), ensure_ascii=False))
            elif kind == "article":
                click.echo(_render(value, fmt, source))
    if records:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    stderr.print(
        f"{len(sources)} pages: {counts['article']} articles, {counts['rejected']} not articles, "
        f"{counts['failed']} could not be read",
        highlight=False,
    )
    if counts["failed"]:
        sys.exit(1)


def _results(
    sources: list[str], jobs: int, read: Callable[[str], tuple[str, Any]]
) -> Iterator[tuple[str, Any]]:
    """(kind, value) for each source in order: kind is article, rejected or failed (value: the reason)."""
    if jobs == 1 or len(sources) == 1:
        yield from map(read, sources)
        return
    from concurrent.futures import TimeoutError as FutureTimeout

    from pebble import ProcessExpired, ProcessPool

    timeout = crawl_settings.NEWSDESK_EXTRACT_TIMEOUT
    with ProcessPool(max_workers=min(jobs, len(sources)), initializer=_start_worker, initargs=(os.getpid(),)) as pool:
        outcomes = pool.map(read, sources, timeout=timeout, chunksize=1).result()
        while True:
            try:
                yield next(outcomes)
            except StopIteration:
                return
            except FutureTimeout:
                yield "failed", f"extraction took longer than {timeout:g} s"
            except ProcessExpired as error:
                yield "failed", f"worker died (exit code {error.exitcode})"
            except Exception as error:  # noqa: BLE001 — one page's crash is that page's reason
                yield "failed", f"{type(error).__name__}: {error}"[:300]


def _start_worker(parent_pid: int) -> None:
    """A worker dies with the command, and loads what extraction loads lazily before its first page."""
    import signal

    from crawler.extraction import warm_up
    from storage import processes

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the command, which stops its workers
    processes.die_with_parent(parent_pid)
    warm_up()


def _file_name(source: str, suffix: str, taken: set[str]) -> str:
    """``story.html`` -> ``story.md``; a name met before gets ``-2``, ``-3``…"""
    stem = Path(source.rstrip("/")).name or "page"
    for ending in (".gz", ".html", ".htm", ".xhtml"):
        stem = stem.removesuffix(ending)
    name, number = f"{stem}{suffix}", 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}{suffix}"
    taken.add(name)
    return name


# -- one page, in whichever process reads it ----------------------------------------------------


def _extract_one(
    source: str,
    *,
    allow_private: bool,
    page_url: str | None = None,
    known_hubs: tuple[tuple[str, frozenset[str]], ...] = (),
    chrome: frozenset[str] = frozenset(),
    stdin: bytes | None = None,
) -> tuple[str, Any]:
    """("article", its record) or ("rejected" | "failed", the reason in one line). ``stdin``: the
    bytes of ``-`` when the caller read them (a worker process has no stdin of its own)."""
    from crawler.discovery.pagetype import url_shape
    from crawler.discovery.scope import CrawlScope
    from crawler.normalize import canonical_url
    from crawler.extraction import Article
    from crawler.reading import ReadRequest, read_page
    from crawler.workers import READING_FAILURES

    try:
        body, charset, url = _read_page(source, allow_private=allow_private, stdin=stdin)
    except click.ClickException as error:
        return "failed", error.message
    # Read as the crawl reads it (page type, walls, extraction: the same function, with the hubs
    # of its URL shape the crawl knows), so the verdict and its reason are the crawl's.
    url = page_url or url
    own_url = canonical_url(url)
    shape = url_shape(own_url)
    request = ReadRequest(
        url=url,
        known_hubs=tuple(hub for hub in known_hubs if hub[0] != own_url and url_shape(hub[0]) == shape),
        site_chrome=own_url in chrome,
        scope=CrawlScope(()),  # links are not wanted here
        http_charset=charset,
        max_text_chars=crawl_settings.NEWSDESK_MAX_ARTICLE_CHARS,
        max_elements=crawl_settings.NEWSDESK_MAX_PAGE_ELEMENTS,
    )
    reading = read_page(body[:EXTRACT_READ_BYTES], request)
    result = reading.extraction
    if reading.not_article_reason is not None:
        return "rejected", f"not an article: {reading.not_article_reason}"
    if not isinstance(result, Article):
        detail = f"{result.reason}" + (f": {result.detail}" if result.detail else "")
        # Reading broke (newsdesk's code raised): the page is not known to be no article.
        return ("failed", detail) if result.reason in READING_FAILURES else ("rejected", f"not an article: {detail}")
    data = dataclasses.asdict(result)
    data["page_type"] = reading.page_type.describe()
    for key in ("published_at", "modified_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return "article", data


def _record(source: str, kind: str, value: Any) -> dict[str, Any]:
    return {"source": source, **value} if kind == "article" else {"source": source, "error": value}


def _render(data: dict[str, Any], fmt: str, source: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return json.dumps({"source": source, **data}, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return markdown_document(data["title"], data["markdown"], data["text"])
    return f"{data['title']}\n{', '.join(data['authors'])}  {data['published_at'] or ''}\n\n{data['text']}\n"


def _read_page(target: str, *, allow_private: bool, stdin: bytes | None = None) -> tuple[bytes, str | None, str]:
    """Bytes, header charset and URL of a page from stdin, a file, or the web.

    At most ``EXTRACT_MAX_BYTES`` are read from any of them, the crawl's DOWNLOAD_MAXSIZE: a
    larger page is refused as the crawl refuses it, and /dev/zero cannot fill the memory.
    """
    if "://" in target:
        from crawler.page_fetch import FetchRefused, fetch_page

        try:
            page = fetch_page(target, max_bytes=EXTRACT_MAX_BYTES + 1, allow_private=allow_private)
        except FetchRefused as exc:
            raise click.ClickException(str(exc)) from None
        body, charset, url = page.body, page.charset, page.url
    elif target == "-":
        raw = stdin if stdin is not None else sys.stdin.buffer.read(EXTRACT_MAX_BYTES + 1)
        body, charset, url = _gunzipped(raw, target), None, "http://localhost/"
    else:
        try:
            with open(target, "rb") as handle:
                body = _gunzipped(handle.read(EXTRACT_MAX_BYTES + 1), target)
        except OSError as exc:
            raise click.ClickException(f"cannot read {target}: {exc.strerror}") from None
        charset, url = None, "file://" + os.path.abspath(target)
    if len(body) > EXTRACT_MAX_BYTES:
        raise click.ClickException(f"{target} is larger than {EXTRACT_MAX_BYTES:,} bytes (DOWNLOAD_MAXSIZE)")
    return body, charset, url


def _gunzipped(body: bytes, target: str) -> bytes:
    """A page saved with gzip (``page.html.gz``, as archives and datasets keep them) decompressed,
    at most one byte past the size cap, so a gzip bomb is refused as an oversized page."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        page = inflater.decompress(body, EXTRACT_MAX_BYTES + 1)
    except zlib.error as exc:
        raise click.ClickException(f"{target}: a gzip file that does not decompress ({exc})") from None
    if not inflater.eof and len(page) <= EXTRACT_MAX_BYTES:
        raise click.ClickException(f"{target}: a gzip file cut short")
    return page


#: The crawl's limits: a body over DOWNLOAD_MAXSIZE is refused, and only the first
#: NEWSDESK_MAX_HTML_BYTES of one are read.
EXTRACT_MAX_BYTES = crawl_settings.DOWNLOAD_MAXSIZE
EXTRACT_READ_BYTES = crawl_settings.NEWSDESK_MAX_HTML_BYTES
