"""newsdesk storage: the corpus database (SQLite or PostgreSQL).

- ``storage.db`` — engines, ``open_database()``, Alembic migrations, ``run_in_transaction()``
- ``storage.articles`` — the write path: ``store_article(s)`` with URL, hash and near-dup dedup
- ``storage.dedup`` — normalisation, content hashes, MinHash/LSH keys, cluster assignment
- ``storage.runs`` — the crawl log (runs, fetches, dead letters)
- ``storage.queries`` — the read path used by the CLI

Nothing here imports the crawler or Scrapy: data flows from the crawler into storage only.
"""
