"""Preloaded first by the crawl's fork server (see :mod:`storage.processes`): the server leaves
the crawl's process group and dies with the crawl; every worker and writer it forks inherits both.

Importing this module anywhere else does nothing.
"""

from __future__ import annotations

import os

from storage.processes import SERVER_PARENT_ENV, die_with_parent

_crawl_pid = os.environ.pop(SERVER_PARENT_ENV, None)
if _crawl_pid is not None:
    os.setpgid(0, 0)
    die_with_parent(int(_crawl_pid))
