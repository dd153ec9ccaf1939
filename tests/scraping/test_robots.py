from __future__ import annotations

from collections.abc import Callable

import pytest
from protego import Protego
from starlette.testclient import TestClient

from ugc_guard.policy import Policy
from ugc_guard.scraping import meta_tags, render_robots
from ugc_guard.scraping.agents import SCRAPING_TOOLS, ai_agent_tokens

UA = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"}


def _parser(client: TestClient) -> Protego:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "max-age" in response.headers["cache-control"]
    return Protego.parse(response.text)


def test_site_mode_agrees_with_the_middleware_for_every_agent(guarded: Callable[..., TestClient]) -> None:
    client = guarded()
    robots = _parser(client)
    for token in (*ai_agent_tokens(), *SCRAPING_TOOLS):
        for path in ("/", "/about", "/gallery/1"):
            assert not robots.can_fetch(f"http://testserver{path}", token), (token, path)
            assert client.get(path, headers={"user-agent": f"{token}/1.0"}).status_code == 403, (token, path)
    assert robots.can_fetch("http://testserver/about", UA["user-agent"])
    assert client.get("/about", headers=UA).status_code == 200


def test_content_mode_agrees_with_the_middleware_for_every_agent(guarded: Callable[..., TestClient]) -> None:
    client = guarded({"scraping": {"block_scraping_tools": False, "robots": {"ai_crawlers": "content", "content_paths": ["/gallery/"]}}})
    robots = _parser(client)
    for token in ai_agent_tokens():
        for path, allowed in (("/about", True), ("/gallery/1", False), ("/upload", False)):
            assert robots.can_fetch(f"http://testserver{path}", token) is allowed, (token, path)
            if path != "/upload":
                assert (client.get(path, headers={"user-agent": f"{token}/1.0"}).status_code == 200) is allowed, (token, path)


def test_always_disallowed_paths_for_everyone(make_policy: Callable[..., Policy]) -> None:
    policy = make_policy({"scraping": {"robots": {"ai_crawlers": "none", "disallow": ["/private/"]}, "trap_path": "/ugc-guard/honey"}})
    robots = Protego.parse(render_robots(policy))
    for agent in ("Googlebot", "GPTBot", "SomeNewBot"):
        for path in ("/upload", "/raw/x", "/ugc-guard/accept", "/ugc-guard/honey", "/private/a"):
            assert not robots.can_fetch(f"http://h{path}", agent), (agent, path)
        assert robots.can_fetch("http://h/gallery/1", agent)


def test_allowed_agents_fall_back_to_the_common_group(make_policy: Callable[..., Policy]) -> None:
    robots = Protego.parse(render_robots(make_policy({"scraping": {"allow_agents": ["GPTBot"]}})))
    assert robots.can_fetch("http://h/about", "GPTBot")
    assert not robots.can_fetch("http://h/about", "ClaudeBot")
    assert not robots.can_fetch("http://h/upload", "GPTBot")


def test_sitemap_and_content_usage(make_policy: Callable[..., Policy]) -> None:
    text = render_robots(make_policy({"scraping": {"robots": {"sitemap": "https://example.com/sitemap.xml"}}}))
    assert "Sitemap: https://example.com/sitemap.xml" in text
    assert "Content-Usage: train-ai=n" in text
    assert list(Protego.parse(text).sitemaps) == ["https://example.com/sitemap.xml"]


def test_signals_are_never_blocked_or_rate_limited(guarded: Callable[..., TestClient]) -> None:
    client = guarded({"rate_limits": {"rules": [{"name": "burst", "limit": "1/hour"}]}})
    assert client.get("/about", headers=UA).status_code == 200
    assert client.get("/about", headers=UA).status_code == 429
    for _ in range(3):
        for path in ("/robots.txt", "/.well-known/tdmrep.json"):
            for agent in ("GPTBot/1.2", "curl/8.5.0", UA["user-agent"]):
                response = client.get(path, headers={"user-agent": agent})
                assert response.status_code == 200, (path, agent)
                assert "ratelimit" not in response.headers


def test_tdmrep_and_headers(guarded: Callable[..., TestClient]) -> None:
    client = guarded({"scraping": {"tdm_policy": "https://example.com/tdm-policy.json"}})
    document = client.get("/.well-known/tdmrep.json").json()
    assert document == [{"location": "/*", "tdm-reservation": 1, "tdm-policy": "https://example.com/tdm-policy.json"}]
    response = client.get("/about", headers=UA)
    assert response.headers["tdm-reservation"] == "1"
    assert response.headers["tdm-policy"] == "https://example.com/tdm-policy.json"
    assert response.headers["x-robots-tag"] == "noai, noimageai"
    assert response.headers["content-usage"] == "train-ai=n"
    refused = client.get("/about", headers={"user-agent": "GPTBot"})
    assert refused.headers["x-robots-tag"] == "noai, noimageai"


def test_signals_off(guarded: Callable[..., TestClient]) -> None:
    client = guarded({"scraping": {"tdm_reservation": False, "noai_headers": False}})
    response = client.get("/about", headers=UA)
    assert "tdm-reservation" not in response.headers and "x-robots-tag" not in response.headers
    assert client.get("/.well-known/tdmrep.json").json() == [{"location": "/*", "tdm-reservation": 0}]


def test_meta_tags(make_policy: Callable[..., Policy]) -> None:
    tags = meta_tags(make_policy({"scraping": {"tdm_policy": "https://example.com/p?a=1&b=2"}}))
    assert '<meta name="robots" content="noai, noimageai">' in tags
    assert '<meta name="tdm-reservation" content="1">' in tags
    assert 'content="https://example.com/p?a=1&amp;b=2"' in tags
    assert meta_tags(make_policy({"scraping": {"tdm_reservation": False, "noai_headers": False}})) == ""


@pytest.mark.parametrize("path", ["/ROBOTS.TXT", "/robots.txt?x=1"])
def test_robots_spellings(guarded: Callable[..., TestClient], path: str) -> None:
    assert guarded().get(path, headers={"user-agent": "GPTBot"}).status_code == 200
