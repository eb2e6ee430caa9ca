"""Scrapy settings for newsdesk. Own settings carry the NEWSDESK_ prefix and are read once, in
``from_crawler``, by the component that uses them."""

import os

BOT_NAME = "newsdesk"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- Politeness -------------------------------------------------------------------------------
# Who runs the crawl (an e-mail address or URL), shown in the User-Agent as
# "newsdesk/VERSION (+CONTACT)" so a site owner can reach them (env NEWSDESK_CONTACT, or -s).
# Crawling a site off this machine without one logs a warning. -s USER_AGENT=... replaces it all.
NEWSDESK_CONTACT = os.environ.get("NEWSDESK_CONTACT", "")
# Rules for this token in robots.txt apply to newsdesk ("User-agent: newsdesk").
ROBOTSTXT_USER_AGENT = "newsdesk"
ROBOTSTXT_OBEY = True
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2

# --- Limits -----------------------------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
# Applies to the decompressed body too (Scrapy's HttpCompressionMiddleware honours it while
# inflating), so a small gzip bomb cannot take gigabytes of memory.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
DEPTH_LIMIT = 6
# Only http and https are fetched.
DOWNLOAD_HANDLERS = {
    "file": None, "s3": None, "ftp": None, "data": None,
    # Scrapy's own, which waits for the shared host table when NEWSDESK_HOST_POLITENESS_ENABLED is on.
    "http": "crawler.politeness.PoliteHttpHandler", "https": "crawler.politeness.PoliteHttpHandler",
}  # fmt: skip

# --- Safety -----------------------------------------------------------------------------------
# Refuse requests and redirects to loopback, private, link-local and metadata addresses, checked
# on the literal host and on the resolved IP. Turn off to crawl a site on your own machine or LAN
# (the demo and the tests do).
NEWSDESK_BLOCK_PRIVATE_ADDRESSES = True
# No remote control of a running crawl: Scrapy's telnet console and its HTTP server that runs
# Python sent to it (RemoteControl) are off, so no port is opened and no token file is left behind.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.PrivateAddressGuard": 50,
    # newsdesk/VERSION (+NEWSDESK_CONTACT), set before Scrapy's UserAgentMiddleware (500) would.
    "crawler.middlewares.ContactUserAgent": 490,
    # Politeness and limits (see the block below): RFC 9309 robots.txt in place of Scrapy's.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.politeness.RobotsTxtPolicy": 100,
    # Each site's tdmrep.json is read before its first page; robots.txt for AI agents (issue 19).
    "crawler.components.site_signals.SiteSignalsMiddleware": 110,
    # Above RetryMiddleware (550), so it sees 429/503 with Retry-After first.
    "crawler.politeness.RetryAfterMiddleware": 560,
    # A redirect that leaves the crawl's scope is not followed (checked before the private-address
    # guard resolves anything).
    "crawler.politeness.RedirectScope": 40,
    # Sees a redirect before RedirectMiddleware (600), which cannot build a request to a host no domain has.
    "crawler.politeness.RedirectToNoWebAddress": 610,
    # Names the reason when a body is cut at DOWNLOAD_MAXSIZE ("body over 10 MB").
    "crawler.politeness.BodySizeLimit": 570,
    # Next to the downloader: every response as served, before retries, redirects or decompression.
    "crawler.components.archive.ArchiveMiddleware": 950,
}

# --- Politeness and limits (crawler/politeness.py) ----------------------------------------------
# Only this many bytes of a robots.txt are parsed (RFC 9309 asks for at least 500 KiB).
NEWSDESK_ROBOTSTXT_MAX_BYTES = 512 * 1024
# Honour Retry-After on 429 and 503: pause the host, then send the request again.
NEWSDESK_RETRY_AFTER_ENABLED = True
# Longest pause a Retry-After can impose, in seconds; longer asks are cut to this.
NEWSDESK_MAX_RETRY_AFTER = 300
# How many Retry-After waits one request gets before its 429/503 is final.
NEWSDESK_RETRY_AFTER_TIMES = 3
# Politeness shared by every crawl process on the database (storage/hosts.py): no request to a host
# sooner than max(DOWNLOAD_DELAY, its robots.txt Crawl-delay) after the previous one by any process,
# at most CONCURRENT_REQUESTS_PER_DOMAIN of them at once, a Retry-After seen by one pauses all, and
# robots.txt fetched by one process. None: on for PostgreSQL, off for SQLite (one crawl process
# writes at a time there, and Scrapy's own download slots keep its pace); true or false to choose.
NEWSDESK_HOST_POLITENESS_ENABLED = None
# With shared politeness, a host's robots.txt is fetched again after this many seconds (one that
# could not be read, after five minutes at most).
NEWSDESK_ROBOTSTXT_KEEP_SECONDS = 24 * 60 * 60
# Fan-out caps: what is cut is counted in stats (newsdesk/capped/...) and logged once per document.
# Child sitemaps followed from one sitemap index.
NEWSDESK_MAX_SITEMAPS_PER_INDEX = 500
# Page URLs taken from one sitemap (the sitemap protocol's own limit is 50,000).
NEWSDESK_MAX_URLS_PER_SITEMAP = 50_000
# Entries taken from one RSS/Atom feed.
NEWSDESK_MAX_FEED_ENTRIES = 1_000
# In-scope links followed from one page; a page with 200,000 links cannot flood the frontier.
NEWSDESK_MAX_LINKS_PER_PAGE = 2_000

# --- Frontier (crash-safe, incremental crawling) -------------------------------------------------
SCHEDULER = "crawler.frontier.FrontierScheduler"
# How long a leased URL stays with its worker without a heartbeat: a live worker renews its leases
# every third of this; those of a worker that stopped (kill -9, a lost machine) go back to pending
# for the other workers of the run after at most this many seconds.
NEWSDESK_FRONTIER_LEASE_SECONDS = 60
# How many URLs a crawl process leases at a time.
NEWSDESK_FRONTIER_BATCH = 16
# Re-fetch stored articles older than this (e.g. 6h, 2d); empty: only when a sitemap or feed
# says they changed.
NEWSDESK_RECRAWL_AFTER = ""

# --- Storage ----------------------------------------------------------------------------------
# Database URL; when unset, the env var NEWSDESK_DATABASE_URL, else sqlite:///newsdesk.db.
NEWSDESK_DATABASE_URL = None
# Stored articles are written in batches: flush after this many items or seconds, and on close.
NEWSDESK_STORE_BATCH_SIZE = 50
NEWSDESK_STORE_FLUSH_SECONDS = 5.0
# Batches are written by a writer process of their own, so database work neither costs the crawl
# process CPU nor stalls its downloads; True writes them in the crawl process.
NEWSDESK_STORE_IN_PROCESS = False
# Jaccard similarity above which two articles count as copies of one story.
NEWSDESK_NEAR_DUPLICATE_THRESHOLD = None
# Site profiles (storage/site_profiles.py): text blocks a source repeats across its story pages are
# learned as it is crawled and stripped from its stories. A profile is used once MIN_PAGES story
# pages of the source are counted; a block is template text when on MIN_BLOCK_PAGES pages and on
# MIN_SHARE of the pages counted since it first appeared; a body is never cut by more than
# MAX_STRIPPED_SHARE of its characters.
NEWSDESK_SITE_PROFILES_ENABLED = True
NEWSDESK_SITE_PROFILE_MIN_PAGES = 10
NEWSDESK_SITE_PROFILE_MIN_BLOCK_PAGES = 5
# 0.4, not a half: the extractor keeps a link-heavy box ("Read also: <headline>") on some pages
# and drops it on others, so a box on every page is seen in fewer than half of the bodies.
NEWSDESK_SITE_PROFILE_MIN_SHARE = 0.4
NEWSDESK_SITE_PROFILE_MAX_STRIPPED_SHARE = 0.5

# --- Archive (crawler/components/archive.py) ------------------------------------------------------
# Every response (pages, hubs, feeds, sitemaps, robots.txt, errors) kept as WARC 1.1, written by a
# thread of its own. Off with NEWSDESK_ARCHIVE=false in the environment (or this setting).
NEWSDESK_ARCHIVE = os.environ.get("NEWSDESK_ARCHIVE", "true").strip().lower() not in ("0", "false", "no", "off")
# Where the .warc.gz files go; empty: an archive/ folder beside the SQLite file (./archive for PostgreSQL).
NEWSDESK_ARCHIVE_DIR = os.environ.get("NEWSDESK_ARCHIVE_DIR") or None
# A new file is started past this size (MB) or age (minutes), and on every run.
NEWSDESK_ARCHIVE_MAX_MB = 1024
NEWSDESK_ARCHIVE_MAX_MINUTES = 60

# --- Extraction -------------------------------------------------------------------------------
# Worker processes that read pages (links, page type, article); 0 means one per CPU core, 1 means
# inline in the crawl process.
NEWSDESK_EXTRACT_WORKERS = 0
# HTML beyond this many bytes is cut before it is read.
NEWSDESK_MAX_HTML_BYTES = 5 * 1024 * 1024
# Article text beyond this many characters is cut at a paragraph break (0: no cap); a long read
# is under 100,000, so only broken or hostile pages reach it.
NEWSDESK_MAX_ARTICLE_CHARS = 1_000_000
# A page whose extraction takes longer is recorded as an error and its worker replaced.
NEWSDESK_EXTRACT_TIMEOUT = 10.0
# A page with more HTML elements is read for links only (not-an-article, with the reason); its
# bytes past four '<' per element are not parsed at all. The largest of 714 real news pages had
# 5,105 elements; 6 MB of tiny elements took minutes and 1.4 GB to read in full.
NEWSDESK_MAX_PAGE_ELEMENTS = 50_000
# An extraction worker whose resident memory is above this many MB after a page is replaced
# before it reads another (0: never). A warmed worker starts at about 180 MB.
NEWSDESK_WORKER_MAX_RSS_MB = 400

# --- Item pipelines, in the order data flows ----------------------------------------------------
# Outputs of one callback processed at once. A page yields its new links and at most one item;
# Scrapy starts this many asyncio tasks per response, and its default (100) cost about 1 ms of the
# crawl process's CPU per page.
CONCURRENT_ITEMS = 8
ITEM_PIPELINES = {
    "crawler.pipelines.NormalisePipeline": 200,
    "crawler.pipelines.StorePipeline": 300,
}

# --- Source health (newsdesk health; an environment variable of the same name wins) ----------
# A source's latest day of crawling is judged against its last this many days of crawling.
NEWSDESK_HEALTH_WINDOW_DAYS = 28
# Stories stored below mean - LOW_SIGMA * sigma or above mean + HIGH_SIGMA * sigma are out of the
# band (Media Cloud's defaults); sigma is at least the square root of the mean (a Poisson count).
NEWSDESK_HEALTH_LOW_SIGMA = 1.5
NEWSDESK_HEALTH_HIGH_SIGMA = 2.0
# Median words of new stories at or below this share of the window's median: an alert.
NEWSDESK_HEALTH_LENGTH_DROP = 0.5
# Days of crawling a source needs before its volume is judged.
NEWSDESK_HEALTH_MIN_HISTORY_DAYS = 7
# Share of a day's text removed as site template this much above the window's share (0.2: from
# 10 % to 30 %): a warning, never an alert (the stored text is still stripped of it).
NEWSDESK_HEALTH_TEMPLATE_RISE = 0.2

# --- Publishers' signals -------------------------------------------------------------------------
# Refuse to store a page whose publisher reserves text and data mining (TDMRep, after the
# spec's precedence of meta, header and tdmrep.json): logged as skipped, with the reason.
NEWSDESK_REFUSE_TDM_RESERVED = False

# --- Measurement ------------------------------------------------------------------------------
# When set, the crawl writes its CPU time, wall time and memory figures to this JSON file.
NEWSDESK_RESOURCE_STATS_FILE = None
# A live display of the crawl on stderr (crawler/components/progress.py); newsdesk crawl and demo
# turn it on when stderr is a terminal.
NEWSDESK_PROGRESS = False
EXTENSIONS = {
    # The crawl run: its state, its reading pool and the accounting of every error (it settles
    # the run's status). The scheduler, pipelines and middlewares get it with CrawlRun.of(crawler).
    "crawler.components.run.CrawlRun": 0,
    # SIGHUP stops the crawl gracefully, as SIGTERM and SIGINT do.
    "crawler.extensions.HangUpShutdown": 0,
    # Each host's delay, concurrency, Retry-After pause and robots.txt kept with every other crawl
    # process on the database (NEWSDESK_HOST_POLITENESS_ENABLED); the http handler takes the starts.
    "crawler.politeness.SharedHostPoliteness": 100,
    "crawler.extensions.ResourceStats": 500,
    # pages/s, stored, queued and errors as they change, when NEWSDESK_PROGRESS is on.
    "crawler.components.progress.CrawlProgress": 600,
}
# `scrapy crawl` exits non-zero when the run failed or finished with errors (crawler/commands/).
COMMANDS_MODULE = "crawler.commands"

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Item log lines name the URL and never print the page (Scrapy's own print the whole item).
LOG_FORMATTER = "crawler.logformatter.OneLineLogFormatter"
