"""Which agents are refused where: the same rules robots.txt states, enforced by the middleware."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..policy import Policy
from .agents import APP_NAME_TOKENS, SEARCH_BOTS, Agent, AgentKind, AgentMatcher, ai_agent_tokens
from .signals import RobotsRules, path_pattern, robots_rules

__all__ = ["AgentRules"]


@dataclass(frozen=True)
class AgentRules:
    """A policy's agent decisions, precompiled once per site."""

    matcher: AgentMatcher
    block_ai_crawlers: bool
    ai_paths: re.Pattern[str] | None
    """Paths (normalised, lowercase) where AI crawlers are refused; None means everywhere."""

    @classmethod
    def for_policy(cls, policy: Policy, rules: RobotsRules | None = None) -> AgentRules:
        """Build the decisions for ``policy`` from the same groups robots.txt is rendered from."""
        rules = rules or robots_rules(policy)
        scraping = policy.scraping
        # deny_agents and tools share "refused everywhere"
        matcher = _matcher(rules.blocked_everywhere, tuple(scraping.deny_agents), tuple(scraping.allow_agents))
        ai_paths: re.Pattern[str] | None = None
        if scraping.robots.ai_crawlers != "site":
            patterns = rules.ai_disallow if scraping.robots.ai_crawlers == "content" else rules.common_disallow
            ai_paths = re.compile("|".join(f"(?:{path_pattern(p.lower())})" for p in patterns) or "(?!)")
        return cls(matcher, scraping.block_ai_crawlers, ai_paths)

    def refuses(self, agent: Agent, path: str) -> bool:
        """Return whether a request from ``agent`` for the normalised ``path`` is refused (403)."""
        kind = agent.kind
        if kind in (AgentKind.denied, AgentKind.scraping_tool):
            return True
        if kind is AgentKind.ai_crawler and self.block_ai_crawlers:
            return self.ai_paths is None or self.ai_paths.match(path) is not None
        return False


@lru_cache(maxsize=64)
def _matcher(blocked_everywhere: tuple[str, ...], deny: tuple[str, ...], allow: tuple[str, ...]) -> AgentMatcher:
    """One matcher per distinct list: sites with the same lists (most of them) share it, and its cache of answers."""
    return AgentMatcher(
        ai_crawlers=ai_agent_tokens(), scraping_tools=blocked_everywhere, search_bots=SEARCH_BOTS, deny=deny, allow=allow, app_names=APP_NAME_TOKENS
    )
