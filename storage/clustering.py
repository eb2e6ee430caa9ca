"""Near-duplicate clusters for a batch of stored articles, in a few set-based statements.

Storing an article writes its row, URLs and version; which cluster it joins is settled for the
whole batch at its end (:meth:`ClusterBatch.assign`): its LSH band keys are replaced, the
candidates sharing a bucket with any of them are read in one query, their signatures compared
here, and the clusters merged as connected components, the same membership a writer clustering
one article after another reaches (matching is symmetric), in about ten round trips a batch
instead of eight an article.

On PostgreSQL the band keys of the batch are locked (``storage.write_locks``) only for this last
step, just before the commit: two writers storing near-copies of one story take turns here, so
the later one sees the earlier one's keys, while the rest of their batches run side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage import dedup, write_locks
from storage.db import dialect_name
from storage.models import Article, Cluster, DedupKey

__all__ = ["ClusterBatch"]

#: Values per ``IN (...)`` list: SQLite allows 32,766 bound values a statement, PostgreSQL 65,535.
_CHUNK = 5_000


def _among(conn: sa.Connection, column: sa.ColumnElement, values: Sequence[int]) -> sa.ColumnElement[bool]:
    """``column IN values``; on PostgreSQL one array parameter rather than thousands of them."""
    if dialect_name(conn) == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class ClusterBatch:
    """The articles of one transaction whose body (and so cluster) is new, clustered together."""

    threshold: float = dedup.DEFAULT_NEAR_DUPLICATE_THRESHOLD
    #: article id -> the body it now has (the last one, if stored twice in the batch).
    bodies: dict[int, dedup.Fingerprint] = field(default_factory=dict)
    #: article id -> when it was seen with it (a cluster it starts is created then).
    seen: dict[int, datetime] = field(default_factory=dict)

    def add(self, article_id: int, body: dedup.Fingerprint, seen_at: datetime) -> None:
        self.bodies[article_id] = body
        self.seen[article_id] = seen_at

    def assign(self, conn: sa.Connection) -> dict[int, int]:
        """Clusters every added article; returns article id -> cluster id. The batch is emptied."""
        bodies, seen = self.bodies, self.seen
        self.bodies, self.seen = {}, {}
        if not bodies:
            return {}
        ids = sorted(bodies)
        keys = {aid: dedup.band_keys(body.signature) if body.signature_bytes is not None else [] for aid, body in bodies.items()}
        buckets = sorted({bucket for pairs in keys.values() for _band, bucket in pairs})
        write_locks.lock_keys(conn, buckets)
        for chunk in _chunks(ids):
            conn.execute(sa.delete(DedupKey).where(_among(conn, DedupKey.article_id, chunk)))
        rows = [{"band": band, "bucket": bucket, "article_id": aid} for aid, pairs in keys.items() for band, bucket in pairs]
        _insert_keys(conn, rows)
        matches = self._matches(conn, bodies, keys, buckets)
        return _merge(conn, ids, matches, seen)

    def _matches(
        self,
        conn: sa.Connection,
        bodies: dict[int, dedup.Fingerprint],
        keys: dict[int, list[tuple[int, int]]],
        buckets: list[int],
    ) -> dict[int, set[int]]:
        """article id -> the stored articles it is a near-copy of (or, too short for MinHash, an
        exact copy of in another source)."""
        in_bucket: dict[int, set[int]] = {}
        for chunk in _chunks(buckets):
            for bucket, aid in conn.execute(
                sa.select(DedupKey.bucket, DedupKey.article_id).where(_among(conn, DedupKey.bucket, chunk))
            ):
                in_bucket.setdefault(bucket, set()).add(aid)
        candidates = {aid: {other for _band, bucket in keys[aid] for other in in_bucket.get(bucket, ())} - {aid} for aid in bodies}
        signatures = {aid: body.signature for aid, body in bodies.items() if body.signature_bytes is not None}
        unknown = sorted({other for found in candidates.values() for other in found} - signatures.keys())
        for chunk in _chunks(unknown):
            for other, stored in conn.execute(sa.select(Article.id, Article.minhash).where(_among(conn, Article.id, chunk))):
                if stored is not None:
                    signatures[other] = dedup.signature_from_bytes(stored)
        matches = {
            aid: {
                other
                for other in found
                if other in signatures and dedup.estimate_similarity(signatures[aid], signatures[other]) >= self.threshold
            }
            for aid, found in candidates.items()
            if aid in signatures
        }
        # Identical bodies in other sources are one story even when too short for MinHash.
        short = {body.content_hash: aid for aid, body in bodies.items() if body.signature_bytes is None and body.identifies}
        for chunk in _chunks(sorted(short)):
            for other, content_hash in conn.execute(
                sa.select(Article.id, Article.content_hash).where(_among(conn, Article.content_hash, chunk))
            ):
                if other != short[content_hash]:
                    matches.setdefault(short[content_hash], set()).add(other)
        return matches


def _merge(conn: sa.Connection, ids: list[int], matches: dict[int, set[int]], seen: dict[int, datetime]) -> dict[int, int]:
    """Joins each article, its matches and their clusters into one cluster (the lowest id),
    creating clusters for articles that match none; returns article id -> cluster id."""
    involved = sorted(set(ids).union(*matches.values()))
    clusters_of = _locked_clusters(conn, involved)
    # Connected components over articles and the clusters they are in.
    parent: dict[object, object] = {}

    def root(node: object) -> object:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(a: object, b: object) -> None:
        parent[root(a)] = root(b)

    for aid in involved:
        root(("article", aid))
        if clusters_of.get(aid) is not None:
            join(("article", aid), ("cluster", clusters_of[aid]))
    for aid, found in matches.items():
        for other in found:
            join(("article", aid), ("article", other))
    components: dict[object, list[int]] = {}
    for aid in involved:
        components.setdefault(root(("article", aid)), []).append(aid)

    survivor_of: dict[int, int] = {}
    merged: dict[int, int] = {}  # cluster id -> the cluster it is merged into
    lonely = []
    for members in components.values():
        existing = sorted({clusters_of[aid] for aid in members if clusters_of.get(aid) is not None})
        if not existing:
            lonely.append(members)
            continue
        for aid in members:
            survivor_of[aid] = existing[0]
        merged.update({cluster: existing[0] for cluster in existing[1:]})
    if lonely:
        created = conn.execute(
            sa.insert(Cluster).returning(Cluster.id, sort_by_parameter_order=True),
            [
                {"representative_article_id": min(members), "created_at": min(seen[aid] for aid in members if aid in seen)}
                for members in lonely
            ],
        ).scalars()
        for members, cluster in zip(lonely, created, strict=True):
            survivor_of.update(dict.fromkeys(members, cluster))
    moved = [{"target": aid, "cluster": cluster} for aid, cluster in survivor_of.items() if clusters_of.get(aid) != cluster]
    _move(conn, moved)
    if merged:
        conn.execute(
            sa.update(Article).where(Article.cluster_id == sa.bindparam("old")).values(cluster_id=sa.bindparam("new")),
            [{"old": old, "new": new} for old, new in merged.items()],
        )
        for chunk in _chunks(sorted(merged)):
            conn.execute(sa.delete(Cluster).where(_among(conn, Cluster.id, chunk)))
    _refresh_representatives(conn, sorted(set(survivor_of.values())))
    return {aid: survivor_of[aid] for aid in ids}


# On PostgreSQL, one statement over arrays: an executemany sends a statement a row (32 keys an
# article), which cost more than all the rest of clustering.
_PG_INSERT_KEYS = sa.text(
    "INSERT INTO dedup_keys (bucket, band, article_id) "
    "SELECT unnest(CAST(:buckets AS bigint[])), unnest(CAST(:bands AS smallint[])), unnest(CAST(:ids AS integer[]))"
)
_PG_MOVE = sa.text(
    "UPDATE articles SET cluster_id = moved.cluster FROM "
    "(SELECT unnest(CAST(:ids AS integer[])) AS id, unnest(CAST(:clusters AS integer[])) AS cluster) AS moved "
    "WHERE articles.id = moved.id"
)


def _insert_keys(conn: sa.Connection, rows: list[dict[str, int]]) -> None:
    if not rows:
        return
    if dialect_name(conn) == "postgresql":
        conn.execute(
            _PG_INSERT_KEYS,
            {
                "buckets": [row["bucket"] for row in rows],
                "bands": [row["band"] for row in rows],
                "ids": [row["article_id"] for row in rows],
            },
        )
    else:
        conn.execute(sa.insert(DedupKey), rows)


def _move(conn: sa.Connection, moved: list[dict[str, int]]) -> None:
    """Articles into the clusters they now belong to."""
    if not moved:
        return
    if dialect_name(conn) == "postgresql":
        conn.execute(_PG_MOVE, {"ids": [m["target"] for m in moved], "clusters": [m["cluster"] for m in moved]})
    else:
        conn.execute(
            sa.update(Article).where(Article.id == sa.bindparam("target")).values(cluster_id=sa.bindparam("cluster")),
            moved,
        )


def _clusters_of(conn: sa.Connection, article_ids: Sequence[int]) -> dict[int, int | None]:
    found: dict[int, int | None] = {}
    for chunk in _chunks(article_ids):
        found.update(conn.execute(sa.select(Article.id, Article.cluster_id).where(_among(conn, Article.id, chunk))).all())
    return found


def _locked_clusters(conn: sa.Connection, article_ids: Sequence[int]) -> dict[int, int | None]:
    """The cluster of each article, those clusters locked until the transaction ends.

    On PostgreSQL another writer may be merging one of them right now (through a near-copy that
    shares no key with these articles): their rows are locked in id order, then read again from
    the articles, until no merge moved them in between. A writer that merges clusters holds their
    locks, so what is read here stays true until this transaction commits. SQLite lets one
    writer in at a time.
    """
    clusters_of = _clusters_of(conn, article_ids)
    if dialect_name(conn) != "postgresql":
        return clusters_of
    while True:
        wanted = sorted({cluster for cluster in clusters_of.values() if cluster is not None})
        if not wanted:
            return clusters_of
        conn.execute(sa.select(Cluster.id).where(_among(conn, Cluster.id, wanted)).order_by(Cluster.id).with_for_update()).all()
        again = _clusters_of(conn, article_ids)
        if again == clusters_of:
            return clusters_of
        clusters_of = again


def _refresh_representatives(conn: sa.Connection, cluster_ids: Sequence[int]) -> None:
    """Representative = earliest published member (undated last), ties by canonical URL in byte
    order (code point order is UTF-8's byte order), so either backend picks the same one."""
    best: dict[int, tuple] = {}
    for chunk in _chunks(cluster_ids):
        for aid, cluster, published_at, canonical_url in conn.execute(
            sa.select(Article.id, Article.cluster_id, Article.published_at, Article.canonical_url).where(
                _among(conn, Article.cluster_id, chunk)
            )
        ):
            rank = (published_at is None, published_at.timestamp() if published_at is not None else 0.0, canonical_url)
            if cluster not in best or rank < best[cluster][0]:
                best[cluster] = (rank, aid)
    if best:
        conn.execute(
            sa.update(Cluster).where(Cluster.id == sa.bindparam("target")).values(representative_article_id=sa.bindparam("article")),
            [{"target": cluster, "article": aid} for cluster, (_rank, aid) in best.items()],
        )
