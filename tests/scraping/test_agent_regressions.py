"""Agent matching against real User-Agent strings: people's browsers and apps pass, announced crawlers do not.

The strings are in ``data/user_agents.json``; the same decisions are checked in the app, in its
middleware and in the nginx and Caddy snippets generated for the edge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ugc_guard.policy import Policy
from ugc_guard.scraping.agents import APP_NAME_TOKENS, SCRAPING_TOOLS, SEARCH_BOTS, AgentKind, AgentMatcher, ai_agent_tokens
from ugc_guard.scraping.edge import render_caddy, render_nginx
from ugc_guard.scraping.enforce import AgentRules

AGENTS: dict[str, Any] = json.loads((Path(__file__).parent / "data" / "user_agents.json").read_text(encoding="utf-8"))
VISITORS: list[dict[str, str]] = AGENTS["visitors"]
CRAWLERS: list[dict[str, str]] = AGENTS["crawlers"]
NAMED_FETCHERS: list[dict[str, str]] = AGENTS["named_fetchers"]


def test_the_regression_lists_are_big_enough() -> None:
    assert len(VISITORS) >= 40 and len({entry["ua"] for entry in VISITORS}) == len(VISITORS)
    assert len(CRAWLERS) >= 20


@pytest.fixture(scope="module")
def policy_matcher(make_policy_module: Callable[..., Policy]) -> AgentMatcher:
    return AgentRules.for_policy(make_policy_module()).matcher


@pytest.fixture(scope="module")
def make_policy_module(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Policy]:
    from tests.conftest import write_policy
    from ugc_guard.policy import load_policy

    folder = tmp_path_factory.mktemp("policy")
    return lambda overrides=None: load_policy(write_policy(folder, overrides))


@pytest.mark.parametrize("entry", VISITORS, ids=[entry["what"] for entry in VISITORS])
def test_browsers_in_app_browsers_and_app_web_views_are_visitors(policy_matcher: AgentMatcher, entry: dict[str, str]) -> None:
    assert policy_matcher.classify(entry["ua"]).kind is AgentKind.unknown


@pytest.mark.parametrize("entry", CRAWLERS + NAMED_FETCHERS, ids=[entry["token"] for entry in CRAWLERS + NAMED_FETCHERS])
def test_announced_crawlers_and_fetchers_stay_blocked(policy_matcher: AgentMatcher, entry: dict[str, str]) -> None:
    agent = policy_matcher.classify(entry["ua"])
    assert agent.kind >= AgentKind.scraping_tool and agent.token == entry["token"], agent


def test_the_middleware_serves_every_visitor_and_refuses_every_crawler(guarded: Callable[..., TestClient]) -> None:
    client = guarded()
    for entry in VISITORS:
        assert client.get("/about", headers={"user-agent": entry["ua"]}).status_code == 200, entry["what"]
    for entry in CRAWLERS + NAMED_FETCHERS:
        response = client.get("/about", headers={"user-agent": entry["ua"]})
        assert (response.status_code, response.json()["code"]) == (403, "automated-access-forbidden"), entry["token"]


def test_only_app_name_tokens_of_the_shipped_lists_occur_in_people_s_agents() -> None:
    """The review of the shipped list: a token whose words occur in a visitor's agent must be an app-name token."""
    whole_words = AgentMatcher(ai_crawlers=ai_agent_tokens(), scraping_tools=SCRAPING_TOOLS, search_bots=SEARCH_BOTS)
    found = {token for entry in VISITORS if (token := whole_words.classify(entry["ua"]).token)}
    assert found and {token.casefold() for token in found} <= APP_NAME_TOKENS, found
    shipped = {token.casefold() for token in (*ai_agent_tokens(), *SCRAPING_TOOLS)}
    assert APP_NAME_TOKENS <= shipped


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [("Cursor/1.0", "Cursor"), ("cursor", "Cursor"), ("  CODE/1.2 (node)", "Code"), ("Mozilla/5.0 (compatible; Operator/2.1)", "Operator"),
     ("Mozilla/5.0 (compatible; trae/1.0; +https://www.trae.ai)", "Trae"), ("Java/1.8.0_392", "Java"), ("Faraday v2.9.0", "Faraday")],
)  # fmt: skip
def test_app_name_tokens_match_as_the_agent_s_own_name(policy_matcher: AgentMatcher, user_agent: str, token: str) -> None:
    assert policy_matcher.classify(user_agent).token == token


@pytest.mark.parametrize(
    "user_agent",
    ["Mozilla/5.0 QR Code Reader/2.1", "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36 [FBCR/Operator]",
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Cursor/1.0 Chrome/128.0 Electron/32.2.6 Safari/537.36",
     "Mozilla/5.0 Spider Solitaire/3.0.1 (iPhone; iOS 18.1)", "Mozilla/5.0 (Windows NT 10.0) Java Plug-in Chrome/131.0"],
)  # fmt: skip
def test_app_name_tokens_do_not_match_as_ordinary_words(policy_matcher: AgentMatcher, user_agent: str) -> None:
    assert policy_matcher.classify(user_agent).kind is AgentKind.unknown


def test_a_policy_that_denies_an_app_name_means_the_word(make_policy_module: Callable[..., Policy]) -> None:
    matcher = AgentRules.for_policy(make_policy_module({"scraping": {"deny_agents": ["Cursor"]}})).matcher
    editor = next(entry["ua"] for entry in VISITORS if entry["what"] == "Cursor editor")
    assert matcher.classify(editor).kind is AgentKind.denied


def _nginx_agent(config: str, user_agent: str) -> str:
    """Evaluate the generated ``map $http_user_agent`` as nginx does: the first matching regex wins."""
    block = config.split("map $http_user_agent $ugc_guard_agent {", 1)[1].split("}", 1)[0]
    for pattern, value in re.findall(r'^    "~\*(.*)" "(.*)";', block, re.MULTILINE):
        if re.search(pattern, user_agent, re.IGNORECASE):
            return str(value)
    return ""


def _caddy_refuses(config: str, user_agent: str) -> bool:
    for matcher in re.findall(r"@\w+ \{\n(.*?)\n\}", config, re.DOTALL):
        wanted = re.findall(r"^    header_regexp User-Agent `\(\?i\)(.*)`$", matcher, re.MULTILINE)
        unwanted = re.findall(r"^    not header_regexp User-Agent `\(\?i\)(.*)`$", matcher, re.MULTILINE)
        if all(re.search(p, user_agent, re.IGNORECASE) for p in wanted) and not any(re.search(p, user_agent, re.I) for p in unwanted):
            return True
    return False


def test_the_edge_snippets_decide_as_the_app(make_policy_module: Callable[..., Policy]) -> None:
    policy = make_policy_module({"scraping": {"allow_agents": ["Amazonbot"]}})
    nginx, caddy = render_nginx(policy), render_caddy(policy)
    matcher = AgentRules.for_policy(policy).matcher
    for entry in VISITORS + CRAWLERS + NAMED_FETCHERS:
        refused = matcher.classify(entry["ua"]).kind in (AgentKind.ai_crawler, AgentKind.scraping_tool, AgentKind.denied)
        assert (_nginx_agent(nginx, entry["ua"]) != "") is refused, entry
        assert _caddy_refuses(caddy, entry["ua"]) is refused, entry
    amazon = next(entry["ua"] for entry in CRAWLERS if entry["token"] == "Amazonbot")
    assert _nginx_agent(nginx, amazon) == "" and not _caddy_refuses(caddy, amazon)


LINK_PREVIEWS: list[dict[str, Any]] = AGENTS["link_previews"]


@pytest.mark.parametrize("entry", LINK_PREVIEWS, ids=[entry["what"] for entry in LINK_PREVIEWS])
def test_link_preview_fetchers_are_bots_refused_only_when_a_list_names_them(
    guarded: Callable[..., TestClient], policy_matcher: AgentMatcher, entry: dict[str, Any]
) -> None:
    agent = policy_matcher.classify(entry["ua"])
    assert agent.token == entry["refused_as"]
    response = guarded().get("/about", headers={"user-agent": entry["ua"]})
    assert response.status_code == (403 if entry["refused_as"] else 200)
    if entry["refused_as"]:  # a campaign that wants the preview allows the fetcher by its own name
        name = entry["ua"].split("/", 1)[0]
        allowing = guarded({"scraping": {"allow_agents": [name]}})
        assert allowing.get("/about", headers={"user-agent": entry["ua"]}).status_code == 200
