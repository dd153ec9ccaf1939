"""The agent and path rules as nginx and Caddy snippets, so the edge refuses what the app refuses.

Agent patterns use the same whole-word rule as :mod:`.agents`: a token's words separated by
anything but letters and digits, bounded by the start, the end or a non-alphanumeric character.
App-name tokens (:data:`.agents.APP_NAME_TOKENS`) match only as a product name and never in an
Electron app's agent, as in the app: nginx tries them after an ``electron/`` entry, Caddy in
matchers of their own. The regular expressions avoid look-around so that Caddy's RE2 and nginx's
PCRE read them alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from ..policy import Policy
from .agents import APP_NAME_TOKENS, ai_agent_tokens, token_words
from .signals import RobotsRules, path_pattern, robots_rules

__all__ = ["agent_regex", "product_regex", "render_caddy", "render_nginx"]

_EXEMPT = r"^/(robots\.txt|\.well-known/tdmrep\.json)$"


def agent_regex(tokens: Iterable[str]) -> str | None:
    """Return a case-insensitive-ready regex matching any of ``tokens`` as whole words, or None."""
    alternatives = sorted({"[^a-z0-9]+".join(map(re.escape, token_words(token))) for token in tokens if token_words(token)})
    if not alternatives:
        return None
    return "(^|[^a-z0-9])(" + "|".join(alternatives) + ")([^a-z0-9]|$)"


def product_regex(tokens: Iterable[str]) -> str | None:
    """Return a regex matching any of ``tokens`` as a product name: starting the agent, or before ``/``."""
    alternatives = sorted({"[^a-z0-9]+".join(map(re.escape, token_words(token))) for token in tokens if token_words(token)})
    if not alternatives:
        return None
    names = "|".join(alternatives)
    return f"^[^a-z0-9]*({names})([^a-z0-9]|$)|(^|[^a-z0-9])({names})/"


def _ai_paths(policy: Policy, rules: RobotsRules) -> str | None:
    """Return the regex of paths where AI crawlers are refused, None for everywhere."""
    mode = policy.scraping.robots.ai_crawlers
    if mode == "site":
        return None
    patterns = rules.ai_disallow if mode == "content" else rules.common_disallow
    return "|".join(f"({path_pattern(pattern)})" for pattern in patterns)


class _Parts(NamedTuple):
    allow: str | None
    everywhere: str | None
    ai: str | None
    everywhere_apps: str | None
    ai_apps: str | None
    ai_paths: str | None


def _parts(policy: Policy) -> _Parts:
    rules = robots_rules(policy)
    allowed = {token.casefold() for token in policy.scraping.allow_agents}
    denied = {token.strip().casefold() for token in policy.scraping.deny_agents}

    def app(token: str) -> bool:  # a denied token is the policy's own word: whole-word, like in the app
        return token.strip().casefold() in APP_NAME_TOKENS and token.strip().casefold() not in denied

    everywhere = rules.blocked_everywhere
    ai_tokens = [t for t in ai_agent_tokens() if t.casefold() not in allowed] if policy.scraping.block_ai_crawlers else []
    return _Parts(
        agent_regex(rules.allowed),
        agent_regex([t for t in everywhere if not app(t)]),
        agent_regex([t for t in ai_tokens if not app(t)]),
        product_regex([t for t in everywhere if app(t)]),
        product_regex([t for t in ai_tokens if app(t)]),
        _ai_paths(policy, rules),
    )


def render_nginx(policy: Policy) -> str:
    """Return nginx configuration: three ``map`` blocks for the ``http`` context and an ``if`` for ``server``."""
    allow, everywhere, ai, everywhere_apps, ai_apps, ai_paths = _parts(policy)
    lines = [
        f"# ugc_guard: agent rules of campaign {policy.campaign.id}, generated from its policy.",
        "# In the http {} context (regular expressions are tried in order, the first match wins):",
        "map $http_user_agent $ugc_guard_agent {",
        '    default "";',
    ]
    if allow:
        lines.append(f'    "~*{allow}" "";')
    if everywhere:
        lines.append(f'    "~*{everywhere}" "always";')
    if ai:
        lines.append(f'    "~*{ai}" "ai";')
    if everywhere_apps or ai_apps:
        lines.append('    "~*electron/" "";  # an app\'s web view: app-name tokens below do not apply')
    if everywhere_apps:
        lines.append(f'    "~*{everywhere_apps}" "always";')
    if ai_apps:
        lines.append(f'    "~*{ai_apps}" "ai";')
    lines += ["}", "map $uri $ugc_guard_path {", '    default "any";', f'    "~{_EXEMPT}" "signal";']
    if ai_paths:
        lines.append(f'    "~*{ai_paths}" "ai";')
    lines += ["}", 'map "$ugc_guard_agent:$ugc_guard_path" $ugc_guard_block {', "    default 0;", '    "~^always:(any|ai)$" 1;', '    "ai:ai" 1;']
    if ai_paths is None:
        lines.append('    "ai:any" 1;')
    lines += ["}", "", "# In each server {} of the campaign's hosts:", "if ($ugc_guard_block) {", "    return 403;", "}", ""]
    return "\n".join(lines)


def render_caddy(policy: Policy) -> str:
    """Return Caddyfile directives (for the site block) refusing the same agents with 403."""
    allow, everywhere, ai, everywhere_apps, ai_apps, ai_paths = _parts(policy)
    lines = [
        f"# ugc_guard: agent rules of campaign {policy.campaign.id}, generated from its policy.",
        "# Inside the site block of the campaign's hosts:",
    ]

    def matcher(name: str, agents: str, paths: str | None, apps: bool = False) -> None:
        lines.append(f"@{name} {{")
        lines.append(f"    not path_regexp `{_EXEMPT}`")
        if allow:
            lines.append(f"    not header_regexp User-Agent `(?i){allow}`")
        if apps:
            lines.append("    not header_regexp User-Agent `(?i)electron/`")
        lines.append(f"    header_regexp User-Agent `(?i){agents}`")
        if paths:
            lines.append(f"    path_regexp `(?i){paths}`")
        lines.extend(["}", f'respond @{name} "Automated access is not allowed" 403', ""])

    if everywhere:
        matcher("ugc_guard_always", everywhere, None)
    if everywhere_apps:
        matcher("ugc_guard_always_apps", everywhere_apps, None, apps=True)
    if ai_apps:
        matcher("ugc_guard_ai_apps", ai_apps, ai_paths, apps=True)
    if ai:
        matcher("ugc_guard_ai", ai, ai_paths)
    return "\n".join(lines)
