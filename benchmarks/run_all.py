"""`make bench`: every benchmark in turn, each printing its own table.

Extraction quality needs ../shared/extraction-eval (skipped with a note when it is absent);
storage and query run on SQLite, and on PostgreSQL too when NEWSDESK_TEST_POSTGRES_URL is set;
crawl processes sharing one frontier (crawl_workers.py) run only then.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVAL_SET = HERE.parent.parent / "shared" / "extraction-eval"


def run(script: str, *args: str) -> int:
    print(f"\n=== {script} {' '.join(args)}".rstrip(), flush=True)
    return subprocess.run([sys.executable, str(HERE / script), *args]).returncode


def main() -> int:
    postgres = os.environ.get("NEWSDESK_TEST_POSTGRES_URL")
    failures = 0
    if EVAL_SET.is_dir():
        failures += run("extraction.py", "--data", str(EVAL_SET)) != 0
        failures += run("language.py", "--data", str(EVAL_SET)) != 0
        failures += run("site_profiles.py", "--data", str(EVAL_SET)) != 0
    else:
        print(f"\n=== extraction.py skipped: no evaluation set at {EVAL_SET}")
    failures += run("throughput.py") != 0
    failures += run("archive.py") != 0
    for script in ("store_writes.py", "query.py"):
        if (HERE / script).exists():
            failures += run(script, *(["--postgres", postgres] if postgres else [])) != 0
    if postgres:
        failures += run("crawl_workers.py", "--postgres", postgres) != 0
    else:
        print("\n=== crawl_workers.py skipped: it needs PostgreSQL (NEWSDESK_TEST_POSTGRES_URL)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
