"""Many crawlers on one PostgreSQL: store locks keyed by what an article touches, and the worker
each crawl run was.

``store_locks`` holds one row per key a write has locked (a canonical URL, a body's hash, an LSH
band key, each hashed to 64 bits): writers lock the rows of the keys their articles touch, in
sorted order, instead of one global lock, so only writers of near-copies of one story wait for
each other. Row locks, not advisory locks: a batch touches thousands of keys, more than the shared
lock table holds.

Revision ID: 0012_store_locks_workers
Revises: 0011_archive
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_store_locks_workers"
down_revision = "0011_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_locks",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_store_locks")),
    )
    with op.batch_alter_table("crawl_runs", recreate="never") as batch:
        batch.add_column(sa.Column("worker", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs", recreate="never") as batch:
        batch.drop_column("worker")
    op.drop_table("store_locks")
