"""The agent and path rules as nginx and Caddy snippets, so the edge refuses what the app refuses.

Agent patterns use the same whole-word rule as :mod:`.agents`: a token's words separated by
anything but letters and digits, bounded by the start, the end or a non-alphanumeric character.
The regular expressions avoid look-behind so that Caddy's RE2 and nginx's PCRE read them alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..policy import Policy
from .agents import ai_agent_tokens, token_words
from .signals import RobotsRules, path_pattern, robots_rules

__all__ = ["agent_regex", "render_caddy", "render_nginx"]

_EXEMPT = r"^/(robots\.txt|\.well-known/tdmrep\.json)$"


def agent_regex(tokens: Iterable[str]) -> str | None:
    """Return a case-insensitive-ready regex matching any of ``tokens`` as whole words, or None."""
    alternatives = sorted({"[^a-z0-9]+".join(map(re.escape, token_words(token))) for token in tokens if token_words(token)})
    if not alternatives:
        return None
    return "(^|[^a-z0-9])(" + "|".join(alternatives) + ")([^a-z0-9]|$)"


def _ai_paths(policy: Policy, rules: RobotsRules) -> str | None:
    """Return the regex of paths where AI crawlers are refused, None for everywhere."""
    mode = policy.scraping.robots.ai_crawlers
    if mode == "site":
        return None
    patterns = rules.ai_disallow if mode == "content" else rules.common_disallow
    return "|".join(f"({path_pattern(pattern)})" for pattern in patterns)


def _parts(policy: Policy) -> tuple[str | None, str | None, str | None, str | None]:
    rules = robots_rules(policy)
    allowed = {token.casefold() for token in policy.scraping.allow_agents}
    everywhere = agent_regex(rules.blocked_everywhere)
    ai_tokens = [t for t in ai_agent_tokens() if t.casefold() not in allowed] if policy.scraping.block_ai_crawlers else []
    return agent_regex(rules.allowed), everywhere, agent_regex(ai_tokens), _ai_paths(policy, rules)


def render_nginx(policy: Policy) -> str:
    """Return nginx configuration: three ``map`` blocks for the ``http`` context and an ``if`` for ``server``."""
    allow, everywhere, ai, ai_paths = _parts(policy)
    lines = [f"# ugc_guard: agent rules of campaign {policy.campaign.id}, generated from its policy.",
             "# In the http {} context:", "map $http_user_agent $ugc_guard_agent {", '    default "";']
    if allow:
        lines.append(f'    "~*{allow}" "";')
    if everywhere:
        lines.append(f'    "~*{everywhere}" "always";')
    if ai:
        lines.append(f'    "~*{ai}" "ai";')
    lines += ["}", "map $uri $ugc_guard_path {", '    default "any";', f'    "~{_EXEMPT}" "signal";']
    if ai_paths:
        lines.append(f'    "~*{ai_paths}" "ai";')
    lines += ["}", 'map "$ugc_guard_agent:$ugc_guard_path" $ugc_guard_block {', "    default 0;",
              '    "~^always:(any|ai)$" 1;', '    "ai:ai" 1;']
    if ai_paths is None:
        lines.append('    "ai:any" 1;')
    lines += ["}", "", "# In each server {} of the campaign's hosts:", "if ($ugc_guard_block) {", "    return 403;", "}", ""]
    return "\n".join(lines)


def render_caddy(policy: Policy) -> str:
    """Return Caddyfile directives (for the site block) refusing the same agents with 403."""
    allow, everywhere, ai, ai_paths = _parts(policy)
    lines = [f"# ugc_guard: agent rules of campaign {policy.campaign.id}, generated from its policy.",
             "# Inside the site block of the campaign's hosts:"]

    def matcher(name: str, agents: str, paths: str | None) -> None:
        lines.append(f"@{name} {{")
        lines.append(f"    not path_regexp `{_EXEMPT}`")
        if allow:
            lines.append(f"    not header_regexp User-Agent `(?i){allow}`")
        lines.append(f"    header_regexp User-Agent `(?i){agents}`")
        if paths:
            lines.append(f"    path_regexp `(?i){paths}`")
        lines.extend(["}", f'respond @{name} "Automated access is not allowed" 403', ""])

    if everywhere:
        matcher("ugc_guard_always", everywhere, None)
    if ai:
        matcher("ugc_guard_ai", ai, ai_paths)
    return "\n".join(lines)
