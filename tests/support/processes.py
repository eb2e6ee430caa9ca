"""Watching processes from a test: whether one is still running."""

from __future__ import annotations

__all__ = ["running"]


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for whoever reaps in this container)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
