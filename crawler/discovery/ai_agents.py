"""robots.txt rules for known AI crawlers, read next to the rules for our own agent.

The agents are data (``ai_agents.toml``, dated, maintained by hand); a site's robots.txt is read
for each of them with the same RFC 9309 parser the crawl obeys.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from protego import Protego

__all__ = ["AgentList", "RobotsVerdicts", "known_agents", "robots_verdicts", "verdicts_of"]


@dataclass(frozen=True, slots=True)
class AgentList:
    """The AI crawler agents known, and the date the list was last brought up to date."""

    names: tuple[str, ...]
    updated: date


@dataclass(frozen=True, slots=True)
class RobotsVerdicts:
    """Whether each agent may fetch the site's home page; ``ours`` for newsdesk's own agent."""

    ours: bool
    ai_agents: dict[str, bool]
    list_updated: date

    @property
    def blocked_ai_agents(self) -> list[str]:
        return sorted(name for name, allowed in self.ai_agents.items() if not allowed)

    def as_dict(self) -> dict[str, Any]:
        return {"ours": self.ours, "ai_agents": dict(self.ai_agents), "list_updated": self.list_updated.isoformat()}


@lru_cache(maxsize=1)
def known_agents() -> AgentList:
    data = tomllib.loads(resources.files("crawler.discovery").joinpath("ai_agents.toml").read_text("utf-8"))
    return AgentList(names=tuple(agent["name"] for agent in data["agent"]), updated=data["updated"])


def robots_verdicts(robots_text: str, site_url: str, our_agent: str) -> RobotsVerdicts:
    """Each known AI agent's and our agent's right to fetch ``site_url`` under ``robots_text``."""
    return verdicts_of(Protego.parse(robots_text), site_url, our_agent)


def verdicts_of(parser: Protego, site_url: str, our_agent: str) -> RobotsVerdicts:
    """:func:`robots_verdicts` of a robots.txt already parsed (the one the crawl obeys)."""
    agents = known_agents()
    return RobotsVerdicts(
        ours=parser.can_fetch(site_url, our_agent),
        ai_agents={name: parser.can_fetch(site_url, name) for name in agents.names},
        list_updated=agents.updated,
    )
