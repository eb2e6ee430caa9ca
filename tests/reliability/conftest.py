"""Pytest wiring for the reliability suite: the results fixture and the one summary table."""

from __future__ import annotations

import pytest
from reliability_kit import RESULTS, Results


@pytest.fixture(scope="session")
def results() -> Results:
    return RESULTS


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    r = RESULTS
    if not r.rows:
        return
    write = terminalreporter.write_line
    terminalreporter.section("newsdesk reliability")
    width_case = max(len(row.case) for row in r.rows)
    width_expected = max(len(row.expected) for row in r.rows)
    write(f"{'case':<{width_case}}  {'expected':<{width_expected}}  observed")
    for row in r.rows:
        mark = "" if row.passed else "  <-- FAILED"
        observed = row.observed if len(row.observed) <= 100 else row.observed[:97] + "..."
        write(f"{row.case:<{width_case}}  {row.expected:<{width_expected}}  {observed}{mark}")
    write("")
    write(
        f"inputs tried: {len(r.rows)}   crawls: {r.crawls}   crawl crashes: {r.crashes}   "
        f"articles lost: {r.articles_lost}   stories stored twice: {r.duplicate_stories}   "
        f"requests to forbidden addresses: {r.forbidden_requests}"
    )
    if r.peak_rss_mb:
        write("peak RSS, crawl process (largest process in its tree, e.g. an extraction worker):")
        for name, mb in sorted(r.peak_rss_mb.items()):
            write(f"  {name}: {mb:.0f} MB ({r.tree_peak_rss_mb.get(name, 0):.0f} MB)")
        write("peak memory of the crawl's whole tree (crawl, fork server, workers, writer), summed PSS:")
        for name, mb in sorted(r.tree_sum_peak_mb.items()):
            write(f"  {name}: {mb:.0f} MB")
