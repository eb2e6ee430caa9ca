"""Scheduled crawls: each source's cron ``schedule`` starts a crawl of it in a subprocess.

A Twisted reactor cannot be restarted in one process, so every crawl is its own
``python -m crawler.cli crawl NAME`` process; the scheduler only starts, watches and stops them.

* A source is *due* when its schedule has fired since its last crawl started (a source never
  crawled is due at once). Times are UTC.
* One crawl per source at a time, also across machines sharing the database: a crawl starts only
  under the source's lock in ``source_locks`` (``storage.locks``), renewed while it runs. A slot
  that comes while the source is still being crawled is skipped and logged, not queued.
* Every run ends up in ``crawl_runs``: the crawl logs itself; a crawl that timed out, was stopped
  with the scheduler, or died before logging itself is settled here.
* A crawl past its timeout gets SIGTERM (Scrapy then closes gracefully), then SIGKILL after the
  grace period. SIGTERM or SIGINT to the scheduler does the same to every running crawl and
  starts nothing new; a second signal kills them at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from cronsim import CronSim

from crawler.sources import Source
from storage import locks, runs
from storage.db import DatabaseError, describe_error, open_database, open_read_only, run_in_transaction

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_TIMEOUT",
    "RunResult",
    "Scheduler",
    "crawl_command",
    "is_due",
    "next_run",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = timedelta(hours=2)
DEFAULT_GRACE = timedelta(seconds=30)
DEFAULT_LOCK_TTL = timedelta(minutes=5)

#: Builds the command line that crawls one source.
CommandFactory = Callable[[Source], Sequence[str]]


def next_run(expr: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` at which cron expression ``expr`` fires (UTC)."""
    if after.tzinfo is None:
        raise ValueError("next_run() needs an aware datetime")
    return next(CronSim(expr, after.astimezone(UTC)))


def is_due(expr: str, last_started: datetime | None, now: datetime) -> bool:
    """Whether ``expr`` has fired since ``last_started`` (never started: always due)."""
    return last_started is None or next_run(expr, last_started) <= now


def crawl_command(
    database_url: str, sources_path: str | os.PathLike[str], overrides: Sequence[str] = ()
) -> CommandFactory:
    """The real crawl: ``newsdesk --db URL crawl NAME --sources PATH [-s NAME=VALUE ...]``.

    ``overrides`` are Scrapy settings for every crawl (``NAME=VALUE``), on top of the source's own.
    """
    path = str(Path(sources_path).absolute())
    settings = [arg for override in overrides for arg in ("-s", override)]

    def command(source: Source) -> list[str]:
        return [
            sys.executable, "-m", "crawler.cli", "--db", database_url,
            "crawl", source.name, "--sources", path, *settings,
        ]  # fmt: skip

    return command


@dataclass(frozen=True)
class RunResult:
    """How one scheduled crawl ended."""

    source: str
    status: str
    returncode: int | None
    seconds: float
    run_ids: tuple[int, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass
class _Crawl:
    source: Source
    process: subprocess.Popen[bytes]
    launched_at: datetime
    started: float  # monotonic
    timeout: timedelta
    deadline: float
    renew_at: float
    stop_status: str | None = None  # "timed-out" or "killed" once we have asked it to stop
    kill_at: float | None = None


class Scheduler:
    """Starts due crawls as subprocesses and watches them; see the module docstring."""

    def __init__(
        self,
        sources: Mapping[str, Source],
        database_url: str,
        *,
        sources_path: str | os.PathLike[str] | None = None,
        command: CommandFactory | None = None,
        overrides: Sequence[str] = (),
        timeout: timedelta = DEFAULT_TIMEOUT,
        grace: timedelta = DEFAULT_GRACE,
        lock_ttl: timedelta = DEFAULT_LOCK_TTL,
        poll_interval: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        owner: str | None = None,
        output: IO[Any] | None = None,
        read_only: bool = False,
    ):
        """``read_only``: only to show the schedule (``--list``), which must not create, migrate or
        lock the database."""
        if command is None and sources_path is None:
            raise ValueError("a Scheduler needs the sources_path its crawls read, or a command")
        self.sources = {name: source for name, source in sources.items() if source.schedule}
        self.sessions = open_read_only(database_url) if read_only else open_database(database_url)
        self.command = command or crawl_command(database_url, sources_path, overrides)  # type: ignore[arg-type]
        self.timeout = timeout
        self.grace = grace
        self.lock_ttl = lock_ttl
        self.poll_interval = poll_interval
        self.clock = clock or (lambda: datetime.now(UTC))
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.output = output
        self.running: dict[str, _Crawl] = {}
        self.results: list[RunResult] = []
        # When each source's current slot was used up, by a start or by a skip: a slot missed
        # because the source was busy must not start a crawl the moment it is free again.
        self._slot_used: dict[str, datetime] = {}
        self._signals = 0

    # -- what is due ----------------------------------------------------------------------------

    def last_starts(self) -> dict[str, datetime]:
        """When each source last started a crawl (from ``crawl_runs``) or last used its slot."""
        with self.sessions() as session:
            latest = runs.last_runs(session, list(self.sources))
        starts = {name: run.started_at for name, run in latest.items()}
        for name, used in self._slot_used.items():
            starts[name] = max(used, starts.get(name, used))
        return starts

    def due(self, now: datetime | None = None) -> list[Source]:
        """The sources whose schedule has fired since they last started, in file order."""
        now = now or self.clock()
        last = self.last_starts()
        return [s for name, s in self.sources.items() if is_due(s.schedule, last.get(name), now)]  # type: ignore[arg-type]

    def next_runs(self, now: datetime | None = None) -> dict[str, datetime]:
        """When each scheduled source will next be started (``now`` for one that is due)."""
        now = now or self.clock()
        last = self.last_starts()
        return {
            name: now if is_due(s.schedule, last.get(name), now) else next_run(s.schedule, last[name])  # type: ignore[arg-type]
            for name, s in self.sources.items()
        }

    # -- running --------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._signals > 0

    def run(self, *, once: bool = False) -> list[RunResult]:
        """Start due crawls and watch them; ``once``: only those due now, then wait for them.

        Without ``once`` it runs until :meth:`stop` (or SIGTERM/SIGINT), then stops its crawls.
        """
        logger.info(
            "scheduler %s: %d scheduled source(s)%s", self.owner, len(self.sources), " (once)" if once else ""
        )
        started = False
        with self._signals_handled():
            while True:
                try:
                    if not self.stopping and not (once and started):
                        started = True
                        self.start_due()
                    self.supervise()
                except (sa.exc.SQLAlchemyError, DatabaseError) as exc:
                    if once and not self.running:
                        raise DatabaseError(describe_error(exc)) from exc
                    # A service outlives a database restart; its crawls keep running meanwhile.
                    logger.error("database unavailable, retrying: %s", describe_error(exc))
                    time.sleep(max(self.poll_interval, 5.0))
                if (once or self.stopping) and not self.running:
                    break
                time.sleep(self.poll_interval)
        return self.results

    def stop(self) -> None:
        """Start nothing new; SIGTERM the running crawls (a second call: SIGKILL them now)."""
        self._signals += 1
        now = time.monotonic()
        for crawl in self.running.values():
            if self._signals > 1:
                crawl.kill_at = now
            elif crawl.stop_status is None:
                self._terminate(crawl, "killed", now)

    def start_due(self) -> list[str]:
        """Start every due source that is free; returns the names started."""
        now = self.clock()
        started = []
        for source in self.due(now):
            self._slot_used[source.name] = now
            if source.name in self.running:
                logger.warning("skipped %s: its crawl started %s is still running", source.name, self.running[source.name].launched_at)
            elif self._start(source):
                started.append(source.name)
        return started

    def _start(self, source: Source) -> bool:
        def take(session) -> bool:
            return locks.acquire(session, source.name, self.owner, self.lock_ttl)

        if not run_in_transaction(self.sessions, take):
            holder = self._in_session(lambda s: locks.holder(s, source.name))
            logger.warning("skipped %s: it is being crawled by %s", source.name, holder.owner if holder else "another runner")
            return False
        launched_at = datetime.now(UTC)
        argv = list(self.command(source))
        timeout = source.timeout_delta or self.timeout
        try:
            # Its own session: a Ctrl-C in the scheduler's terminal reaches only the scheduler,
            # which stops the crawls in order; and SIGKILL can take the whole process group.
            process = subprocess.Popen(
                argv, start_new_session=True, stdin=subprocess.DEVNULL, stdout=self.output, stderr=self.output
            )
        except OSError as exc:
            logger.error("could not start %s: %s", source.name, exc)
            error = f"could not start: {exc}"  # the name exc is gone once the except block ends
            self._in_session(
                lambda s: runs.record_run(s, source.name, started_at=launched_at, status="failed", error=error)
            )
            self._release(source.name)
            self.results.append(RunResult(source.name, "failed", None, 0.0))
            return False
        now = time.monotonic()
        self.running[source.name] = _Crawl(
            source=source,
            process=process,
            launched_at=launched_at,
            started=now,
            timeout=timeout,
            deadline=now + timeout.total_seconds(),
            renew_at=now + self.lock_ttl.total_seconds() / 3,
        )
        logger.info("start %s: pid %d, timeout %s", source.name, process.pid, _span(timeout))
        return True

    def supervise(self) -> None:
        """Reap finished crawls, stop those past their timeout, keep the locks of the rest."""
        now = time.monotonic()
        for name, crawl in list(self.running.items()):
            returncode = crawl.process.poll()
            if returncode is not None:
                self._finish(crawl, returncode)  # if the database is down, tried again next time
                del self.running[name]
                continue
            if crawl.stop_status is None and now >= crawl.deadline:
                logger.warning("%s timed out after %s; stopping it", name, _span(crawl.timeout))
                self._terminate(crawl, "timed-out", now)
            elif crawl.kill_at is not None and now >= crawl.kill_at:
                logger.warning("%s did not stop within %s of SIGTERM; killing it", name, _span(self.grace))
                _signal_group(crawl.process, signal.SIGKILL)
                crawl.kill_at = float("inf")
            if now >= crawl.renew_at:
                crawl.renew_at = now + self.lock_ttl.total_seconds() / 3
                if not self._in_session(lambda s: locks.renew(s, name, self.owner, self.lock_ttl)):
                    logger.error("lost the lock of %s (expired and taken over?)", name)

    def _terminate(self, crawl: _Crawl, status: str, now: float) -> None:
        crawl.stop_status = status
        crawl.kill_at = now + self.grace.total_seconds()
        with contextlib.suppress(ProcessLookupError):
            crawl.process.send_signal(signal.SIGTERM)

    def _finish(self, crawl: _Crawl, returncode: int) -> None:
        name = crawl.source.name
        if crawl.stop_status is not None:
            _signal_group(crawl.process, signal.SIGKILL)  # helpers it left behind (extraction workers)
        if crawl.stop_status == "timed-out":
            status, error = "timed-out", f"timed out after {_span(crawl.timeout)}"
        elif crawl.stop_status == "killed":
            status, error = "killed", "stopped with the scheduler"
        elif returncode == 0:
            status, error = "finished", None
        else:
            status, error = "failed", f"crawl exited with status {returncode}"

        def settle(session) -> list[runs.RunRow]:
            own = runs.runs_since(session, name, crawl.launched_at)
            if not own:
                # It died before logging itself: the run is recorded here so none goes missing.
                run_id = runs.record_run(session, name, started_at=crawl.launched_at, status=status, error=error)
                return [runs.get_run(session, run_id)]
            for row in own:
                if row.status == "running" and crawl.stop_status is None:
                    unclosed = f"crawl exited with status {returncode} without closing its run"
                    runs.settle_run(session, row.id, status="failed", error=unclosed)
                elif row.status == "running" or crawl.stop_status == "timed-out":
                    runs.settle_run(session, row.id, status=status, error=error)
            return [runs.get_run(session, row.id) for row in own]

        rows = [row for row in run_in_transaction(self.sessions, settle) if row is not None]
        self._release(name)
        counts: dict[str, int] = {}
        for row in rows:
            for key, value in row.counts.items():
                counts[key] = counts.get(key, 0) + value
        final = rows[-1].status if rows else status
        seconds = time.monotonic() - crawl.started
        self.results.append(RunResult(name, final, returncode, seconds, tuple(r.id for r in rows), counts))
        summary = " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no counts"
        log = logger.info if final in ("finished", "ok") else logger.warning
        log("end %s: %s in %.1fs (exit %s, run %s) %s", name, final, seconds, returncode,
            ",".join(str(r.id) for r in rows) or "-", summary)  # fmt: skip

    def _release(self, name: str) -> None:
        if not self._in_session(lambda s: locks.release(s, name, self.owner)):
            logger.warning("the lock of %s was no longer ours to release", name)

    def _in_session(self, fn: Callable[[Any], Any]) -> Any:
        return run_in_transaction(self.sessions, fn)

    @contextlib.contextmanager
    def _signals_handled(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signal handlers can only be set from the main thread; stop() still works
            return

        def handle(signum: int, _frame: Any) -> None:
            logger.warning(
                "%s: %s %d running crawl(s)",
                signal.Signals(signum).name,
                "killing" if self.stopping else "stopping",
                len(self.running),
            )
            self.stop()

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the crawl's whole process group (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{delta.total_seconds():g}s"
