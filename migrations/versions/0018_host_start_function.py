"""A request's start on a host decided inside PostgreSQL, in one statement.

Every crawl process's starts on one host queue for that host's row lock. Taken from Python, the
lock was held across several client round trips, each waiting for a busy crawl process's thread
to be scheduled; four processes on one host spent half their database time waiting for it. The
function below takes the lock, decides and records the start in one statement, run on its own
(autocommit), so the lock lasts as long as the statement and no longer. SQLite (one writer) keeps
the same decision in Python (``storage.hosts.try_start``); the tests hold both to one behaviour.

Revision ID: 0018_host_start_function
Revises: 0017_frontier_site_evidence
"""

from __future__ import annotations

from alembic import op

revision = "0018_host_start_function"
down_revision = "0017_frontier_site_evidence"
branch_labels = None
depends_on = None

# Each statement in a volatile PL/pgSQL function reads a fresh snapshot: the count of requests on
# the wire, taken after the row lock, includes the rows the previous holder committed.
TRY_START = """
CREATE OR REPLACE FUNCTION newsdesk_try_start(
    start_host varchar, start_owner varchar, start_delay double precision, start_concurrency integer,
    start_timeout double precision, slot_poll double precision,
    OUT fetch_id integer, OUT wait double precision
) LANGUAGE plpgsql VOLATILE SET search_path FROM CURRENT AS $$
DECLARE
    last_start timestamptz;
    host_crawl_delay double precision;
    host_paused_until timestamptz;
    now_at timestamptz;
    floor_seconds double precision;
    on_wire integer;
BEGIN
    SELECT last_start_at, crawl_delay, paused_until INTO last_start, host_crawl_delay, host_paused_until
        FROM hosts WHERE host = start_host FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO hosts (host) VALUES (start_host) ON CONFLICT (host) DO NOTHING;
        SELECT last_start_at, crawl_delay, paused_until INTO last_start, host_crawl_delay, host_paused_until
            FROM hosts WHERE host = start_host FOR UPDATE;
    END IF;
    now_at := clock_timestamp();
    floor_seconds := greatest(start_delay, coalesce(host_crawl_delay, 0));
    wait := 0;
    IF host_paused_until IS NOT NULL AND host_paused_until > now_at THEN
        wait := extract(epoch FROM host_paused_until - now_at);
    END IF;
    IF last_start IS NOT NULL AND floor_seconds > 0 THEN
        wait := greatest(wait, extract(epoch FROM last_start - now_at) + floor_seconds);
    END IF;
    IF wait > 0 THEN
        RETURN;
    END IF;
    wait := 0;
    SELECT count(*) INTO on_wire FROM host_fetches WHERE host = start_host AND expires_at >= now_at;
    IF on_wire >= start_concurrency THEN
        wait := slot_poll;
        RETURN;
    END IF;
    UPDATE hosts SET last_start_at = now_at, delay_seconds = start_delay, concurrency = start_concurrency
        WHERE host = start_host;
    INSERT INTO host_fetches (host, owner, started_at, expires_at)
        VALUES (start_host, start_owner, now_at, now_at + make_interval(secs => start_timeout))
        RETURNING id INTO fetch_id;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TRY_START)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS newsdesk_try_start(varchar, varchar, double precision, integer, "
            "double precision, double precision)"
        )
