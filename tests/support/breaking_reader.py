"""Preloaded by a test's fork server (``storage.processes.forkserver_context``): a reader handed a
page whose URL ends in ``/crash`` dies mid-page, as one killed for its memory or by a segfault in
lxml would, and one handed a page whose URL ends in ``/hang`` never finishes it. Other pages read
as usual. Imported anywhere else, it changes the reading of this process alone.
"""

from __future__ import annotations

import os
import signal
import time

from crawler import workers

_read_page = workers.read_page


def _breaking_read_page(html, request):
    if request.url.endswith("/crash"):
        os.kill(os.getpid(), signal.SIGKILL)
    if request.url.endswith("/hang"):
        while True:
            time.sleep(60)
    return _read_page(html, request)


workers.read_page = _breaking_read_page
