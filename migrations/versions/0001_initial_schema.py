"""Initial schema: sources, articles and their versions/URLs, clusters, dedup keys, crawl log.

Revision ID: 80eec2c10a0a
Revises: 
Create Date: 2026-11-24 22:55:03.532801
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '80eec2c10a0a'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# JSON on SQLite, JSONB on PostgreSQL: fixed here rather than imported, so this revision never
# changes when the models do.
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table('clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('representative_article_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters'))
    )
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clusters_representative_article_id'), ['representative_article_id'], unique=False)

    op.create_table('crawl_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crawl_runs'))
    )
    op.create_table('dead_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=True),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters'))
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name'))
    )
    op.create_table('articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('canonical_url', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('authors', JSON, nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('modified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('section', sa.Text(), nullable=True),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('image_url', sa.Text(), nullable=True),
    sa.Column('word_count', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_articles_cluster_id_clusters')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_articles_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('canonical_url', name=op.f('uq_articles_canonical_url'))
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index('ix_articles_source_id_published_at', ['source_id', 'published_at'], unique=False)

    op.create_table('article_urls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_urls_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_urls')),
    sa.UniqueConstraint('url', name=op.f('uq_article_urls_url'))
    )
    with op.batch_alter_table('article_urls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_urls_article_id'), ['article_id'], unique=False)

    op.create_table('article_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_versions_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article_versions')),
    sa.UniqueConstraint('article_id', 'version', name=op.f('uq_article_versions_article_id_version'))
    )
    op.create_table('dedup_keys',
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('band', sa.SmallInteger(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_dedup_keys_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bucket', 'band', 'article_id', name=op.f('pk_dedup_keys'))
    )
    with op.batch_alter_table('dedup_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dedup_keys_article_id'), ['article_id'], unique=False)

    op.create_table('fetch_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('bytes', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_fetch_log_article_id_articles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['crawl_runs.id'], name=op.f('fk_fetch_log_run_id_crawl_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fetch_log'))
    )
    with op.batch_alter_table('fetch_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fetch_log_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fetch_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fetch_log_run_id'))

    op.drop_table('fetch_log')
    with op.batch_alter_table('dedup_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dedup_keys_article_id'))

    op.drop_table('dedup_keys')
    op.drop_table('article_versions')
    with op.batch_alter_table('article_urls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_urls_article_id'))

    op.drop_table('article_urls')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ix_articles_source_id_published_at')
        batch_op.drop_index(batch_op.f('ix_articles_content_hash'))
        batch_op.drop_index(batch_op.f('ix_articles_cluster_id'))

    op.drop_table('articles')
    op.drop_table('sources')
    op.drop_table('dead_letters')
    op.drop_table('crawl_runs')
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clusters_representative_article_id'))

    op.drop_table('clusters')
