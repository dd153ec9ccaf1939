"""Robots, scrapers and AI crawlers: agent classification, robots.txt / tdmrep.json, bot verification.

See docs/scraping.md. :func:`meta_tags` gives page templates the HTML form of the signals.
"""

from __future__ import annotations

from .agents import Agent, AgentKind, AgentMatcher
from .signals import meta_tags, render_robots, response_headers, robots_rules, tdmrep
from .stage import ScrapingStage
from .verify import BotVerifier, Resolver, SystemResolver

__all__ = [
    "Agent",
    "AgentKind",
    "AgentMatcher",
    "BotVerifier",
    "Resolver",
    "ScrapingStage",
    "SystemResolver",
    "meta_tags",
    "render_robots",
    "response_headers",
    "robots_rules",
    "tdmrep",
]
