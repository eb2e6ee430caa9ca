"""Locks of the write path, keyed by what an article touches, so writers run in parallel.

Storing an article reads what is stored under its canonical URL, its body's hash and its LSH band
keys, then writes there (an alias, a new version, a cluster). Two writers storing near-copies of
one story at the same moment must not both miss the other: each first locks the keys its articles
touch, so such writers take turns while writers of unrelated stories never wait. Near-copies
always share a band key (LSH finds candidates only through one), and exact copies share a hash.

On PostgreSQL a key is a row of ``store_locks`` locked ``FOR UPDATE`` until the transaction ends
(created first if new): row locks, because a batch of 50 articles touches some 1,700 keys and
advisory locks would fill the shared lock table. Keys are locked in sorted order, one statement a
batch, so two writers cannot deadlock on them. SQLite needs none of this: ``BEGIN IMMEDIATE``
already lets one writer at a time in.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

import sqlalchemy as sa

from storage.db import dialect_name

__all__ = ["lock_keys", "text_key"]

# One round trip each, whatever the number of keys; unnest keeps the array's (sorted) order.
_CREATE = sa.text(
    "INSERT INTO store_locks (key) SELECT unnest(CAST(:keys AS bigint[])) ON CONFLICT (key) DO NOTHING"
)
_LOCK = sa.text("SELECT key FROM store_locks WHERE key = ANY(CAST(:keys AS bigint[])) ORDER BY key FOR UPDATE")


def text_key(kind: str, value: str) -> int:
    """A signed 64-bit lock key for a text (``kind`` keeps a URL and a hash apart)."""
    digest = hashlib.blake2b(f"{kind}\0{value}".encode(), digest_size=8, person=b"newsdesk-lock").digest()
    return struct.unpack("<q", digest)[0]


def lock_keys(conn: sa.Connection, keys: Iterable[int]) -> None:
    """Lock ``keys`` until the end of the transaction (PostgreSQL; nothing to do on SQLite)."""
    if dialect_name(conn) != "postgresql":
        return
    ordered = sorted(set(keys))
    if not ordered:
        return
    # A key locked for the first time has no row: inserting it (in order) makes one, and a writer
    # inserting the same key waits on the unique index until this one commits.
    conn.execute(_CREATE, {"keys": ordered})
    conn.execute(_LOCK, {"keys": ordered}).all()
