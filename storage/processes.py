"""The crawl's helper processes (fork server, extraction workers, batch writer): started so that
signals meant for the crawl do not reach them, and so that they die when the crawl dies.

* The fork server (and so every worker and writer it forks) runs in a process group of its own:
  SIGTERM, SIGINT or SIGHUP sent to the crawl's group (Ctrl-C in a terminal, ``kill -- -PGID``, a
  hang-up) reaches the crawl alone, which then closes its helpers in order, with a deadline.
  Helpers killed by such a signal mid-crawl left the worker pool's task thread blocked on a pipe
  nobody read, and the run hung.
* Each helper asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``): crawl -> fork
  server -> worker / writer. A crawl killed with SIGKILL otherwise left them all running, the
  writer with its database connection open.
* The resource tracker stays in the crawl's group (it ignores SIGINT and SIGTERM itself); SIGHUP
  is blocked while it starts so that it inherits the block, and it exits once every helper holding
  its pipe has gone.

Linux only for the death signal; elsewhere the writer's parent watch is the fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing import forkserver
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from multiprocessing.context import ForkServerContext

logger = logging.getLogger(__name__)

__all__ = ["die_with_parent", "forkserver_context", "sigterm_as_ctrl_c", "start_forkserver", "watch_parent"]

#: Imported by the fork server before anything else it preloads (see ``storage/forkserver_setup.py``).
_SETUP_MODULE = "storage.forkserver_setup"
#: Set only while :func:`start_forkserver` starts the server: the crawl's pid, which tells the
#: set-up module it runs in a fork server of ours and which parent to die with.
SERVER_PARENT_ENV = "NEWSDESK_FORKSERVER_PARENT"
_PR_SET_PDEATHSIG = 1
_preload: list[str] = [_SETUP_MODULE]

#: The pid of the process that imported this module: in a process the fork server forked, the
#: fork server's pid (module state is inherited through fork), so a child can tell whether the
#: parent it was born to is still its parent.
_IMPORTED_IN = os.getpid()


def forkserver_context(*preload: str) -> ForkServerContext:
    """The forkserver context, with ``preload`` added to what the server imports when it starts.

    The crawl's components ask for it in turn (the worker pool, the writer); whichever starts the
    server first starts it with every module asked for so far, the set-up module first.
    """
    for module in preload:
        if module not in _preload:
            _preload.append(module)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(_preload))
    return context


def start_forkserver() -> None:
    """Start the resource tracker and the fork server now, with SIGHUP blocked while they start
    (the tracker inherits the block and so survives a hang-up sent to the crawl's group; the crawl
    gets its pending SIGHUP once unblocked).

    Only a server started from the main thread leaves the crawl's group and dies with it: the
    death signal fires when the *thread* that started the server exits, and a worker thread may
    end long before the crawl does.
    """
    on_main_thread = threading.current_thread() is threading.main_thread()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})  # this thread's mask only
    if on_main_thread:
        os.environ[SERVER_PARENT_ENV] = str(os.getpid())
    try:
        forkserver.ensure_running()
    finally:
        os.environ.pop(SERVER_PARENT_ENV, None)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def die_with_parent(parent_pid: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit now if it already has.

    The death signal fires when the parent *thread* that forked us exits, and only from the moment
    it is set: a parent that died just before is caught by comparing ``getppid()`` afterwards.
    ``parent_pid`` defaults to the fork server's pid for a process it forked.
    """
    if parent_pid is None:
        parent_pid = _IMPORTED_IN if _IMPORTED_IN != os.getpid() else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                logger.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
        except OSError as exc:
            logger.warning("no death signal for helper process %d: %s", os.getpid(), exc)
    if os.getppid() != parent_pid:
        os._exit(1)


def watch_parent(crawl_pid: int, interval: float = 1.0) -> None:
    """Exit this process when the crawl is gone: a fallback for where the death signal is missing
    or was lost (a daemon thread polls every ``interval`` seconds)."""
    parent_pid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid or not _alive(crawl_pid):
                logger.error("the crawl (pid %d) is gone; helper %d exits", crawl_pid, os.getpid())
                os._exit(1)

    threading.Thread(target=watch, name="watch-crawl", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as stat:
            # A killed crawl not yet reaped by its own parent is a zombie: gone for our purposes.
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    return True


@contextlib.contextmanager
def sigterm_as_ctrl_c(first: Callable[[], None] | None = None) -> Iterator[None]:
    """While in the block, SIGTERM (``kill``, a service manager) raises KeyboardInterrupt, after
    calling ``first`` (passing the signal on to child processes): ``finally`` blocks run and the
    work ends as on Ctrl-C, where the default action killed the process mid-write without a word.
    Nothing is changed outside the main thread, where signal handlers cannot be set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame) -> None:
        if first is not None:
            first()
        raise KeyboardInterrupt("stopped by SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
