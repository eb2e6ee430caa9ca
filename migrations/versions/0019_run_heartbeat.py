"""A crawl or import run's last sign of life, so a run whose process was killed stops saying "running".

A process killed with SIGKILL (or the out-of-memory killer, or a lost machine) never closes its
``crawl_runs`` row: ``newsdesk runs`` showed it running for ever. Live runs now stamp ``seen_at``
with their heartbeat; a run silent for long is shown as such and settled as ``interrupted`` by
the next command that starts a run.

Revision ID: 0019_run_heartbeat
Revises: 0018_host_start_function
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_run_heartbeat"
down_revision = "0018_host_start_function"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("seen_at")
