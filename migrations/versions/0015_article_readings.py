"""Article readings: per article, the extractor version and site profile ``newsdesk reextract`` last
read it with, and what came of it, so a killed run resumes where it stopped and a run with nothing
new to apply reads nothing.

Revision ID: 0015_article_readings
Revises: 0014_health_template_share
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_article_readings"
down_revision = "0014_health_template_share"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_readings",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("extractor_version", sa.String(length=100), nullable=False),
        sa.Column("site_profile", sa.String(length=64), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name="fk_article_readings_article_id_articles", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", name="pk_article_readings"),
    )


def downgrade() -> None:
    op.drop_table("article_readings")
