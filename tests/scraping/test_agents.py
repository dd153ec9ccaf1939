from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from ugc_guard.scraping.agents import SCRAPING_TOOLS, SEARCH_BOTS, AgentKind, AgentMatcher, ai_agent_tokens, load_agent_list

BROWSERS = [
    # Chrome, Windows / macOS / Linux
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    # Firefox
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    # Safari, desktop and iOS
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    # Edge, Opera, Samsung, Android Chrome, Firefox for Android, Chrome on iOS
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1",
    # In-app browsers
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "[FBAN/FBIOS;FBAV/460.0.0.39.109;FBBV/574240393;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.4;FBSS/3;FBCR/;FBID/phone;FBLC/nl_NL;FBOP/5]",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 "
    "Instagram 300.0.0.29.110 Android",
]

CRAWLERS = {
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)": "GPTBot",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)": "ClaudeBot",
    "CCBot/2.0 (https://commoncrawl.org/faq/)": "CCBot",
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
    "(compatible; Bytespider; spider-feedback@bytedance.com)": "Bytespider",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)": "PerplexityBot",
    "Mozilla/5.0 (compatible; ICC-Crawler/3.0; Mozilla; +https://www.nict.go.jp/en/univ-com/plat/icc/crawler.html)": "ICC-Crawler",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot)": "Amazonbot",
    "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)": "meta-externalagent",
}

TOOLS = [
    "curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", "python-httpx/0.27.0", "Python/3.11 aiohttp/3.9.5",
    "Go-http-client/2.0", "Scrapy/2.11.2 (+https://scrapy.org)", "okhttp/4.12.0", "libwww-perl/6.72",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
]  # fmt: skip


@pytest.fixture(scope="module")
def matcher() -> AgentMatcher:
    return AgentMatcher(ai_crawlers=ai_agent_tokens(), scraping_tools=SCRAPING_TOOLS, search_bots=SEARCH_BOTS)


def test_the_shipped_list_keeps_its_source_and_licence() -> None:
    document = load_agent_list()
    assert document["commit"] == "738c80df2169027ce0e07c9976fd3f2f57dd8f7b"
    assert document["source"].startswith("https://github.com/ai-robots-txt/")
    assert len(document["agents"]) == 166
    from ugc_guard.scraping.refresh import LICENCE_FILE

    assert "MIT License" in LICENCE_FILE.read_text() and "Copyright (c) 2024 ai.robots.txt" in LICENCE_FILE.read_text()


@pytest.mark.parametrize("user_agent", BROWSERS)
def test_browsers_are_unknown_to_every_list(matcher: AgentMatcher, user_agent: str) -> None:
    assert matcher.classify(user_agent).kind is AgentKind.unknown


@pytest.mark.parametrize(("user_agent", "token"), CRAWLERS.items())
def test_real_crawler_strings_are_ai_crawlers(matcher: AgentMatcher, user_agent: str, token: str) -> None:
    agent = matcher.classify(user_agent)
    assert (agent.kind, agent.token) == (AgentKind.ai_crawler, token)


@pytest.mark.parametrize("user_agent", TOOLS)
def test_scraping_tools_and_headless_browsers(matcher: AgentMatcher, user_agent: str) -> None:
    assert matcher.classify(user_agent).kind >= AgentKind.scraping_tool


def test_every_listed_token_matches_itself(matcher: AgentMatcher) -> None:
    for token in ai_agent_tokens():
        assert matcher.classify(f"Mozilla/5.0 (compatible; {token}/1.0)").kind is AgentKind.ai_crawler, token


@pytest.mark.parametrize(
    "user_agent",
    ["Mozilla/5.0 (compatible; Claudette/1.0)", "Mozilla/5.0 Webspiders-render", "Mozilla/5.0 (XICC-Crawlerx)",
     "Mozilla/5.0 (compatible; Codex; Operatorship)", "Mozilla/5.0 MyGPTBotClone/1.0", "Mozilla/5.0 Trael/1.0 Yakutsk"],
)  # fmt: skip
def test_tokens_never_match_inside_words(matcher: AgentMatcher, user_agent: str) -> None:
    assert matcher.classify(user_agent).kind is AgentKind.unknown


@pytest.mark.parametrize("user_agent", ["gptbot", "GPTBOT/1.0", "  \tGpTbOt  ", "(GPTBot)", "mozilla/5.0 (compatible;gptbot/1.2)"])
def test_mixed_case_and_padded_tokens(matcher: AgentMatcher, user_agent: str) -> None:
    assert matcher.classify(user_agent).token == "GPTBot"


def test_multi_word_tokens_tolerate_separators(matcher: AgentMatcher) -> None:
    assert matcher.classify("Mozilla/5.0 (compatible; icc crawler)").token == "ICC-Crawler"
    assert matcher.classify("Poseidon  Research\tCrawler/2").token == "Poseidon Research Crawler"


def test_ten_kilobyte_agents(matcher: AgentMatcher) -> None:
    padding = "Mozilla/5.0 " + "x" * 10_000
    assert matcher.classify(padding).kind is AgentKind.unknown
    assert matcher.classify(padding + " ClaudeBot/1.0").token == "ClaudeBot"
    assert matcher.classify(padding + " ClaudeBot/1.0").token == "ClaudeBot"  # long strings bypass the cache


def test_allow_wins_over_every_list_and_deny_adds() -> None:
    matcher = AgentMatcher(ai_crawlers=ai_agent_tokens(), scraping_tools=SCRAPING_TOOLS, deny=["FancyFetcher"], allow=["GPTBot", "curl"])
    assert matcher.classify("GPTBot/1.2").kind is AgentKind.allowed
    assert matcher.classify("curl/8.0").kind is AgentKind.allowed
    assert matcher.classify("FancyFetcher/0.1").kind is AgentKind.denied
    assert matcher.classify("ClaudeBot/1.0").kind is AgentKind.ai_crawler


@pytest.mark.parametrize("user_agent", BROWSERS)
def test_browsers_get_through_the_middleware(guarded: Callable[..., TestClient], user_agent: str) -> None:
    response = guarded().get("/", headers={"user-agent": user_agent})
    assert response.status_code == 200


@pytest.mark.parametrize("user_agent", [*CRAWLERS, *TOOLS])
def test_crawlers_and_tools_get_403_problem(guarded: Callable[..., TestClient], user_agent: str) -> None:
    response = guarded().get("/about", headers={"user-agent": user_agent})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "automated-access-forbidden"


def test_policy_switches(guarded: Callable[..., TestClient]) -> None:
    client = guarded({"scraping": {"block_scraping_tools": False, "block_ai_crawlers": False, "deny_agents": ["FancyFetcher"], "allow_agents": []}})
    assert client.get("/", headers={"user-agent": "curl/8.5.0"}).status_code == 200
    assert client.get("/", headers={"user-agent": "GPTBot/1.2"}).status_code == 200
    assert client.get("/", headers={"user-agent": "fancyfetcher/2"}).status_code == 403
    allowing = guarded({"scraping": {"allow_agents": [" GPTBot "]}})
    assert allowing.get("/", headers={"user-agent": "Mozilla/5.0 (compatible; GPTBot/1.2)"}).status_code == 200


def test_content_mode_blocks_ai_crawlers_only_on_content_paths(guarded: Callable[..., TestClient]) -> None:
    client = guarded({"scraping": {"robots": {"ai_crawlers": "content", "content_paths": ["/gallery/"]}}})
    assert client.get("/gallery/1", headers={"user-agent": "GPTBot/1.2"}).status_code == 403
    assert client.get("/about", headers={"user-agent": "GPTBot/1.2"}).status_code == 200
    assert client.get("/about", headers={"user-agent": "curl/8"}).status_code == 403


def _reference(lists: dict[str, list[str]], user_agent: str) -> tuple[int, str | None]:
    """The documented rule, spelled out slowly: whole consecutive words, highest kind, then first match."""
    words = re.findall(r"[a-z0-9]+", user_agent.lower())
    best: tuple[int, str | None] = (0, None)
    for position in range(len(words)):
        for kind, tokens in enumerate(lists.values(), start=1):
            for token in tokens:
                wanted = _WORDS[token]
                if wanted and words[position : position + len(wanted)] == wanted and kind > best[0]:
                    best = (kind, token)
    return best


_LISTS = {
    "search_bots": list(SEARCH_BOTS),
    "scraping_tools": list(SCRAPING_TOOLS),
    "ai_crawlers": list(ai_agent_tokens()),
    "deny": ["Claude-Web", "Mozilla", "bad bot", "bot"],
    "allow": ["Googlebot", "curl", "spider web"],
}
_WORDS = {token: re.findall(r"[a-z0-9]+", token.lower()) for tokens in _LISTS.values() for token in tokens}
_MATCHER = AgentMatcher(**_LISTS)
_PIECES = [*(token for tokens in _LISTS.values() for token in tokens), "Mozilla/5.0", "Claudette", "Baiduspider", "web", "K", "İ"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PIECES), st.booleans(), st.sampled_from([" ", "/", "-", "_", ";", "", "\u212a", "é", "\t"])),
                max_size=8))  # fmt: skip
def test_classification_follows_the_documented_rule(pieces: list[tuple[str, bool, str]]) -> None:
    user_agent = "".join((piece.upper() if upper else piece) + separator for piece, upper, separator in pieces)
    agent = _MATCHER.classify(user_agent)
    assert (int(agent.kind), agent.token) == _reference(_LISTS, user_agent)
