"""Who is asking: classify a User-Agent string against the shipped agent lists.

Matching is by whole words: a User-Agent is split into runs of ASCII letters and digits
(case-folded), and an agent token matches when its own words appear consecutively. So
``ICC-Crawler`` matches ``icc crawler/1.0`` and ``  ICC-CRAWLER``, but ``Claude`` never matches
inside ``Claudette`` and ``Spider`` never inside ``Baiduspider``. Results are cached per string.

A few tokens of the shipped lists are ordinary words or the names of apps that embed a browser
engine (:data:`APP_NAME_TOKENS`: ``Code`` is VS Code, ``Cursor`` and ``Trae`` are editors whose
web views send ``Cursor/0.44 … Electron/32``). Those match only as the agent's own product name
(``Cursor/1.0``, or the agent string starting with the token) and never in an Electron app's
string: an editor's web view is a person looking at the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Any

from .refresh import AGENTS_FILE

__all__ = [
    "APP_NAME_TOKENS",
    "SCRAPING_TOOLS",
    "SEARCH_BOTS",
    "Agent",
    "AgentKind",
    "AgentMatcher",
    "ai_agent_tokens",
    "load_agent_list",
    "token_words",
]

SCRAPING_TOOLS: tuple[str, ...] = (
    "curl", "Wget", "python-requests", "python-httpx", "Python-urllib", "aiohttp", "Go-http-client",
    "Scrapy", "HeadlessChrome", "PhantomJS", "Puppeteer", "Playwright", "Selenium", "okhttp",
    "libwww-perl", "WWW-Mechanize", "lwp-trivial", "Apache-HttpClient", "Java-http-client", "Java",
    "node-fetch", "axios", "undici", "got", "HTTPie", "colly", "GuzzleHttp", "Faraday", "PycURL",
    "Nutch", "HTTrack", "zgrab", "masscan", "Deno", "Ruby",
)  # fmt: skip
"""Common HTTP libraries, command-line tools and headless browsers, by the token in their default agent."""

SEARCH_BOTS: dict[str, tuple[str, ...]] = {
    "Googlebot": ("googlebot.com", "google.com", "googleusercontent.com"),
    "Google-InspectionTool": ("googlebot.com", "google.com"),
    "Storebot-Google": ("googlebot.com", "google.com"),
    "bingbot": ("search.msn.com",),
    "YandexBot": ("yandex.ru", "yandex.net", "yandex.com"),
    "Baiduspider": ("baidu.com", "baidu.jp"),
}
"""Search-engine crawlers that can be verified by DNS, with the domains their hosts must be under."""

APP_NAME_TOKENS: frozenset[str] = frozenset(
    {"code", "cursor", "trae", "opencode", "operator", "devin", "spider", "lcc", "yak", "java", "ruby", "got", "deno", "faraday"}
)
"""Case-folded tokens of the shipped lists (AI crawlers, scraping tools) that are common words or the
names of apps with a browser engine: they match only as a product name outside an Electron app."""

_WORD = re.compile(r"[a-z0-9]+")
_CACHED_LENGTH = 1024


class AgentKind(IntEnum):
    """What a User-Agent is; when several tokens match, the highest kind wins."""

    unknown = 0
    """No token matched: a browser, or a client we cannot identify (rate limits handle it)."""
    search_bot = 1
    scraping_tool = 2
    ai_crawler = 3
    denied = 4
    allowed = 5


@dataclass(frozen=True, slots=True)
class Agent:
    kind: AgentKind
    token: str | None = None
    """The list token that matched (as spelled in the list), or None."""


UNKNOWN = Agent(AgentKind.unknown)


def token_words(token: str) -> tuple[str, ...]:
    """Return the case-folded words of an agent token or string (runs of ASCII letters and digits)."""
    return tuple(_WORD.findall(token.lower()))


def load_agent_list() -> dict[str, Any]:
    """Return the shipped agent list document (``agents.json``: source, commit, licence, agents)."""
    data: dict[str, Any] = json.loads(AGENTS_FILE.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def ai_agent_tokens() -> tuple[str, ...]:
    """Return the AI crawler tokens of the shipped list, in list order."""
    return tuple(entry["token"] for entry in load_agent_list()["agents"])


class AgentMatcher:
    """Classifies User-Agent strings; built once per policy, then cheap per request.

    ``allow`` wins over every list, then ``deny``, AI crawlers, scraping tools and search bots.
    ``app_names`` (case-folded tokens, e.g. :data:`APP_NAME_TOKENS`) of the AI crawler and scraping
    tool lists match only as a product name outside an Electron app (see the module's docstring);
    ``deny`` and ``allow`` always match as whole words.
    """

    def __init__(
        self,
        *,
        ai_crawlers: Iterable[str] = (),
        scraping_tools: Iterable[str] = (),
        search_bots: Iterable[str] = (),
        deny: Iterable[str] = (),
        allow: Iterable[str] = (),
        app_names: Iterable[str] = (),
        cache_size: int = 4096,
    ) -> None:
        # key word -> (" all its words ", rank, agent, product pattern), as ASCII bytes. A token matches where
        # its needle occurs in the User-Agent's words joined the same way; it is filed under one of its words
        # (the rarest in browsers' agents), so a browser's agent usually shares no key word at all.
        self._index: dict[bytes, list[tuple[bytes, int, Agent, re.Pattern[bytes] | None]]] = {}
        qualified = {name.casefold() for name in app_names}
        sequence = 0
        for kind, tokens in (
            (AgentKind.search_bot, search_bots),
            (AgentKind.scraping_tool, scraping_tools),
            (AgentKind.ai_crawler, ai_crawlers),
            (AgentKind.denied, deny),
            (AgentKind.allowed, allow),
        ):
            for token in tokens:
                words = [word.encode("ascii") for word in token_words(token)]
                if words:
                    sequence += 1
                    needle = b" " + b" ".join(words) + b" "
                    product = None
                    if kind in (AgentKind.scraping_tool, AgentKind.ai_crawler) and token.strip().casefold() in qualified:
                        product = product_pattern(words)
                    self._index.setdefault(_key_word(words), []).append((needle, sequence, Agent(kind, token), product))
        self._key_words = frozenset(self._index)
        self._cached = lru_cache(maxsize=cache_size)(self._classify)

    def classify(self, user_agent: str) -> Agent:
        """Return the agent's classification (``AgentKind.unknown`` when no token matches)."""
        if len(user_agent) > _CACHED_LENGTH:  # rare and attacker-chosen: never fills the cache
            return self._classify(user_agent)
        return self._cached(user_agent)

    def _classify(self, user_agent: str) -> Agent:
        lowered = _lowered(user_agent)
        words = lowered.translate(_SEPARATORS).split()
        present = self._key_words.intersection(words)
        if not present:  # the usual case: one C-level set intersection, no Python loop
            return UNKNOWN
        # The highest kind wins; among equals, the match that starts first, then the first in the lists.
        joined = b" " + b" ".join(words) + b" "
        best, best_rank = UNKNOWN, (AgentKind.unknown, 0, 0)
        for word in present:
            for needle, sequence, agent, product in self._index[word]:
                offset = joined.find(needle)
                if offset >= 0 and (product is None or (b"electron/" not in lowered and product.search(lowered))):
                    rank = (agent.kind, -offset, -sequence)
                    if rank > best_rank:
                        best, best_rank = agent, rank
        return best


_COMMON_WORDS = frozenset(
    b"mozilla compatible windows nt win64 x64 linux x86 macintosh intel mac os android mobile iphone cpu like "
    b"applewebkit khtml gecko chrome safari firefox version edg user bot ai com http www".split()
)


def _key_word(words: list[bytes]) -> bytes:
    """The word a token is filed under: the longest that browsers' agents do not commonly carry."""
    rare = [word for word in words if word not in _COMMON_WORDS and not word.isdigit()] or words
    return max(rare, key=len)  # the first of the longest


# Every byte but ASCII letters and digits separates words (the User-Agent is lowercased first).
_SEPARATORS = bytes(code if chr(code).isascii() and chr(code).isalnum() and not chr(code).isupper() else 0x20 for code in range(256))


def _lowered(user_agent: str) -> bytes:
    """The User-Agent lowercased, as ASCII bytes: every non-ASCII character becomes ``?`` (a separator),
    so its words (split at every byte but ``[a-z0-9]``) are the runs :func:`token_words` finds."""
    return user_agent.lower().encode("ascii", "replace")


def product_pattern(words: list[bytes]) -> re.Pattern[bytes]:
    """Return the pattern for a token's words as a product name in a lowercased User-Agent: at its start
    (only separators before, a separator or the end after) or followed by ``/`` (``cursor/1.0``)."""
    name = b"[^a-z0-9]+".join(re.escape(word) for word in words)
    return re.compile(b"^[^a-z0-9]*" + name + b"(?![a-z0-9])|(?<![a-z0-9])" + name + b"/")
