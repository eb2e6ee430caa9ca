"""Publishers' signals in words, for ``show`` and ``stats``."""

from __future__ import annotations

from typing import Any

__all__ = ["signal_lines", "signals_line"]


def _tdm(signals: dict[str, Any]) -> str:
    if signals["tdm_reserved"] is None:
        return "TDM: no reservation declared"
    if not signals["tdm_reserved"]:
        return f"TDM: not reserved (from {signals['tdm_origin']})"
    policy = f", policy {signals['tdm_policy']}" if signals["tdm_policy"] else ""
    return f"TDM: reserved (from {signals['tdm_origin']}{policy})"


def signal_lines(signals: dict[str, Any]) -> list[str]:
    """One line per family of signal of an article (``storage.signals.article_signals``)."""
    lines = [_tdm(signals), "robots: " + (", ".join(signals["robots"]) or "no directive")]
    if signals["content_usage"]:
        lines.append(f"Content-Usage: {signals['content_usage']}")
    if signals["free"] is False:
        cut = "; the body stored stops at the paywall" if signals["paywall_truncated"] else ""
        parts = f" ({', '.join(signals['paywall_selectors'])})" if signals["paywall_selectors"] else ""
        lines.append(f"paywall: not free{parts}{cut}")
    elif signals["free"]:
        lines.append("paywall: marked free")
    site = signals.get("site")
    if site:
        blocked = site["robots_blocks_ai_agents"]
        if blocked:
            lines.append(f"site robots.txt blocks {len(blocked)} AI agents: {', '.join(blocked)}")
        if site["robots_allows_us"] is False:
            lines.append("site robots.txt disallows newsdesk's own agent")
        if site["tdmrep_error"]:
            lines.append(f"site tdmrep.json: {site['tdmrep_error']}")
    lines.append(f"as of {signals['captured_at']}")
    return lines


def signals_line(counts: dict[str, int]) -> str:
    """The ``stats`` summary of signals across the corpus (``storage.signals.signal_counts``)."""
    return (
        f"signals of {counts['read_for_signals']:,} articles: {counts['tdm_reserved']:,} TDM reserved, "
        f"{counts['noarchive']:,} noarchive, {counts['noai']:,} noai, {counts['paywalled']:,} paywalled "
        f"({counts['paywall_truncated']:,} cut at the paywall)"
    )
