"""Scraping and rate-limit evasion: spellings of blocked agents, forged forwarding headers, rotated
cookies, HEAD instead of GET, the trap both ways, and the signals that must always be served.

Refusals assert the exact status and problem ``code`` and that the app saw nothing; what is allowed
is served by the app (``Site.reached()``) with the rate-limit headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ugc_guard.problems import QUOTA_EXCEEDED
from ugc_guard.scraping import ScrapingStage
from ugc_guard.scraping.verify import BotVerifier
from ugc_guard.subject import COOKIE_NAME, SubjectCookie

from .conftest import BROWSER_UA, GRANTS, Site, jpeg, raw_request

AGENTS: dict[str, Any] = json.loads((Path(__file__).parents[1] / "scraping" / "data" / "user_agents.json").read_text(encoding="utf-8"))
PAGE = "/gallery/1"


def limits(*rules: dict[str, str], **settings: Any) -> dict[str, Any]:
    return {"rate_limits": {"strategy": "fixed-window", "flagged_limit": "2/hour", **settings, "rules": list(rules)}}


def page(client: TestClient, user_agent: str = BROWSER_UA, method: str = "GET", path: str = PAGE, **headers: str) -> Any:
    return client.request(method, path, headers={"user-agent": user_agent, **headers})


def assert_refused(site: Site, response: Any, status: int, code: str, reached: int = 0) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    if response.request.method != "HEAD":
        assert response.json()["code"] == code
    assert site.reached() == reached


# --- spellings of blocked agents --------------------------------------------------------------------------------------

SPELLINGS = [
    "GPTBot", "gptbot", "GPTBOT/1.2", "  GPTBot  ", "\tGpTbOt\t", "GPTBot/", "(GPTBot)", "Mozilla/5.0 (compatible;GPTBot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "ClaudeBot", "claudebot/1.0", "Claude-User", "claude user", "CLAUDE_WEB", "CCBot", "ccbot/2.0 (https://commoncrawl.org/faq/)",
    "Bytespider", "Mozilla/5.0 (Linux; Android 5.0) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
    "PerplexityBot", "perplexity-user/1.0", "meta-externalagent", "META-EXTERNALAGENT/1.1", "Meta-ExternalFetcher", "icc crawler",
    "ICC_Crawler/3.0", "Amazonbot/0.1", "Google-Extended", "google extended", "facebookexternalhit/1.1", "ImagesiftBot",
    "Cursor/1.0", "Operator/2.0", "curl/8.5.0", "CURL", "python-requests/2.32.3", "Python-urllib/3.11", "Wget/1.21", "Scrapy/2.11.2",
    "Go-http-client/2.0", "okhttp/4.12.0", "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "axios/1.7.2", "Java/17.0.10",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 " + "x" * 10_000 + " ClaudeBot/1.0",
]  # fmt: skip


@pytest.mark.parametrize("user_agent", SPELLINGS, ids=[spelling[:60] for spelling in SPELLINGS])
def test_every_spelling_of_a_blocked_agent_is_refused(make_site: Callable[..., Site], user_agent: str) -> None:
    site = make_site()
    client = site.client()
    assert_refused(site, page(client, user_agent), 403, "automated-access-forbidden")
    assert_refused(site, page(client, user_agent, "HEAD"), 403, "automated-access-forbidden")


@pytest.mark.parametrize("user_agent", ["GPTBot/1.2", "curl/8.5.0"])
def test_a_blocked_agent_is_refused_on_upload_routes_before_anything_is_read(make_site: Callable[..., Site], user_agent: str) -> None:
    site = make_site()
    client = site.client()
    before = site.entries()
    response = client.post("/upload", files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS, headers={"user-agent": user_agent})
    assert_refused(site, response, 403, "automated-access-forbidden")
    assert site.entries() == before


@pytest.mark.parametrize("entry", AGENTS["visitors"], ids=[entry["what"] for entry in AGENTS["visitors"]])
def test_people_s_browsers_and_apps_are_served(make_site: Callable[..., Site], entry: dict[str, str]) -> None:
    site = make_site()
    response = page(site.client(), entry["ua"])
    assert response.status_code == 200 and site.reached() == 1


@pytest.mark.parametrize("user_agent", ["", " ", "Mozilla/5.0", "-", "MyGPTBotClone/1.0", "Claudette/2.0", "Baiduspider-like/1.0 (a test)"])
def test_unknown_or_empty_agents_are_left_to_the_rate_limits(make_site: Callable[..., Site], user_agent: str) -> None:
    site = make_site(limits({"name": "pages", "limit": "2/minute"}))
    client = site.client()
    assert [page(client, user_agent).status_code for _ in range(3)] == [200, 200, 429]
    assert site.reached() == 2


# --- the signals are always served --------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_agent", ["GPTBot/1.2", "curl/8.5.0", BROWSER_UA, ""])
def test_robots_txt_and_tdmrep_json_are_always_served(make_site: Callable[..., Site], user_agent: str) -> None:
    site = make_site(limits({"name": "burst", "limit": "1/hour"}))
    client = site.client()
    assert page(client, BROWSER_UA).status_code == 200
    assert page(client, BROWSER_UA).status_code == 429  # over the limit
    assert client.get("/ugc-guard/trap", headers={"user-agent": user_agent}).status_code == 404  # and flagged
    for _ in range(3):
        robots = client.get("/robots.txt?x=1", headers={"user-agent": user_agent})
        assert robots.status_code == 200 and robots.headers["content-type"].startswith("text/plain")
        assert "User-agent: GPTBot" in robots.text and "Disallow: /ugc-guard/trap" in robots.text
        assert "ratelimit" not in robots.headers and "retry-after" not in robots.headers
        assert client.head("/robots.txt", headers={"user-agent": user_agent}).status_code == 200
        tdm = client.get("/.well-known/tdmrep.json", headers={"user-agent": user_agent})
        assert tdm.status_code == 200 and tdm.json() == [{"location": "/*", "tdm-reservation": 1}]
    assert site.reached() == 1


def test_every_response_carries_the_no_ai_signals(make_site: Callable[..., Site]) -> None:
    site = make_site()
    client = site.client()
    for response in (page(client), page(client, "GPTBot/1.2"), client.get("/robots.txt"), client.get("/ugc-guard/trap")):
        assert response.headers["tdm-reservation"] == "1"
        assert response.headers["x-robots-tag"] == "noai, noimageai"


# --- client identity: forwarding headers ------------------------------------------------------------------------------

SPOOFS = [
    {"x-forwarded-for": "203.0.113.{n}"},
    {"x-forwarded-for": "203.0.113.{n}, 10.0.0.1"},
    {"forwarded": "for=203.0.113.{n}"},
    {"forwarded": 'for="[2001:db8::{n}]"'},
    {"x-real-ip": "203.0.113.{n}"},
    {"true-client-ip": "203.0.113.{n}", "cf-connecting-ip": "203.0.113.{n}"},
]


@pytest.mark.parametrize("spoof", SPOOFS, ids=[",".join(spoof) for spoof in SPOOFS])
def test_forwarding_headers_from_an_untrusted_peer_change_nothing(make_site: Callable[..., Site], spoof: dict[str, str]) -> None:
    site = make_site(limits({"name": "pages", "limit": "3/minute"}))
    client = site.client(client=("198.51.100.50", 40000))
    statuses = [page(client, **{name: value.format(n=n) for name, value in spoof.items()}).status_code for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert site.reached() == 3


def test_behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop(make_site: Callable[..., Site]) -> None:
    site = make_site(limits({"name": "pages", "limit": "2/minute"}, trusted_proxies=["10.0.0.0/8"]))
    proxy = site.client(client=("10.0.0.7", 40000))
    # the client prepends whatever it likes; the hop the proxy appended is what counts
    statuses = [page(proxy, **{"x-forwarded-for": f"1.2.3.{n}, 198.51.100.60"}).status_code for n in range(3)]
    assert statuses == [200, 200, 429]
    assert page(proxy, **{"x-forwarded-for": "198.51.100.61"}).status_code == 200  # another client behind the proxy
    # a peer outside the trusted networks is not believed
    outsider = site.client(client=("203.0.113.70", 40000))
    statuses = [page(outsider, **{"x-forwarded-for": f"198.51.100.{n}"}).status_code for n in range(70, 73)]
    assert statuses == [200, 200, 429]


def test_a_spoofed_forwarding_header_cannot_get_someone_else_flagged(make_site: Callable[..., Site]) -> None:
    site = make_site(limits({"name": "pages", "limit": "100/minute"}))
    crawler = site.client(client=("198.51.100.80", 40000))
    victim = site.client(client=("198.51.100.81", 40000))
    assert crawler.get("/ugc-guard/trap", headers={"x-forwarded-for": "198.51.100.81", "user-agent": BROWSER_UA}).status_code == 404
    assert [page(victim).status_code for _ in range(3)] == [200, 200, 200]
    assert [page(crawler).status_code for _ in range(3)] == [200, 200, 429]  # the socket peer was flagged


# --- cookies and subjects ---------------------------------------------------------------------------------------------


def test_rotating_forged_cookies_does_not_escape_a_per_subject_limit(make_site: Callable[..., Site]) -> None:
    site = make_site(limits({"name": "per-subject", "limit": "3/minute", "scope": "subject"}))
    client = site.client()
    forged = [f"{COOKIE_NAME}=s{n:031d}.not-a-signature" for n in range(5)]
    statuses = [page(client, cookie=cookie).status_code for cookie in forged]
    assert statuses == [200, 200, 200, 429, 429]  # no valid subject: counted per client address
    assert [page(client).status_code for _ in range(2)] == [429, 429]  # nor does dropping the cookie


def test_rotating_real_subjects_is_caught_by_the_client_rule_beside_the_subject_rule(make_site: Callable[..., Site]) -> None:
    site = make_site(limits({"name": "per-subject", "limit": "3/minute", "scope": "subject"},
                            {"name": "per-client", "limit": "5/minute", "scope": "client"}))  # fmt: skip
    minted = SubjectCookie(site.guard.sites[0].secret, site.guard.sites[0].campaign)
    client = site.client()
    statuses = [page(client, cookie=f"{COOKIE_NAME}={minted.new()[1]}").status_code for _ in range(7)]
    assert statuses == [200, 200, 200, 200, 200, 429, 429]
    refused = page(client, cookie=f"{COOKIE_NAME}={minted.new()[1]}")
    assert '"per-client";r=0' in refused.headers["ratelimit"]


# --- HEAD instead of GET ----------------------------------------------------------------------------------------------


def test_head_requests_count_like_get(make_site: Callable[..., Site]) -> None:
    site = make_site(limits({"name": "pages", "limit": "3/minute"}))
    client = site.client()
    statuses = [page(client, method=method).status_code for method in ("HEAD", "HEAD", "GET", "HEAD", "GET")]
    assert statuses == [201, 201, 200, 429, 429]  # the spy app answers 201 to anything but GET
    refused = page(client, method="HEAD")
    assert refused.status_code == 429 and refused.headers["retry-after"] and refused.content == b""


def test_spellings_of_a_page_share_the_client_s_quota(make_site: Callable[..., Site]) -> None:
    site = make_site(limits({"name": "pages", "limit": "3/minute"}))
    client = site.client()
    statuses = [page(client, path=path).status_code for path in ("/gallery/1", "/GALLERY/1", "/gallery/1?x=2", "/gallery//1")]
    assert statuses == [200, 404, 200, 429]  # the app's own 404 counts too


# --- the rate-limit headers ---------------------------------------------------------------------------------------------


def test_rate_limit_headers_and_the_refusal(make_site: Callable[..., Site]) -> None:
    site = make_site(limits({"name": "pages", "limit": "2/minute"}))
    client = site.client()
    first = page(client)
    assert first.headers["ratelimit-policy"] == '"pages";q=2;w=60'
    assert re.fullmatch(r'"pages";r=1;t=\d+', first.headers["ratelimit"])
    assert "retry-after" not in first.headers
    page(client)
    refused = page(client)
    assert_refused(site, refused, 429, "rate-limited", reached=2)
    assert refused.json()["type"] == QUOTA_EXCEEDED
    assert refused.headers["retry-after"].isdigit() and 0 < int(refused.headers["retry-after"]) <= 60
    assert re.fullmatch(r'"pages";r=0;t=\d+', refused.headers["ratelimit"])


# --- the trap, both ways ------------------------------------------------------------------------------------------------

EMBEDDED = [
    {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"},
    {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script"},
    {"sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "style"},
    {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe"},
    {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
    {"sec-purpose": "prefetch", "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
    {"sec-purpose": "prefetch;prerender", "sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
]


@pytest.mark.parametrize("fetch", EMBEDDED, ids=["|".join(fetch.values()) for fetch in EMBEDDED])
def test_a_page_elsewhere_cannot_get_a_visitor_flagged_through_the_trap(make_site: Callable[..., Site], fetch: dict[str, str]) -> None:
    site = make_site(limits({"name": "pages", "limit": "100/minute"}))
    visitor = site.client(client=("198.51.100.90", 40000))
    trap = visitor.get("/ugc-guard/trap", headers=fetch)
    assert (trap.status_code, trap.json()["code"]) == (404, "not-found")
    assert [page(visitor).status_code for _ in range(4)] == [200, 200, 200, 200]
    assert site.reached() == 4


CRAWLS = [
    {"user-agent": "Mozilla/5.0 (compatible; SomeCrawler/1.0)"},
    {"user-agent": BROWSER_UA},
    {"user-agent": BROWSER_UA, "sec-fetch-site": "none", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
    {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0", "sec-fetch-site": "same-origin",
     "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
    {"user-agent": "GPTBot/1.2"},
]  # fmt: skip


@pytest.mark.parametrize("fetch", CRAWLS, ids=["|".join(fetch.values())[:50] for fetch in CRAWLS])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_client_fetching_the_trap_itself_is_flagged(make_site: Callable[..., Site], fetch: dict[str, str], method: str) -> None:
    site = make_site(limits({"name": "pages", "limit": "100/minute"}))
    crawler = site.client(client=("198.51.100.91", 40000))
    trap = crawler.request(method, "/Ugc-Guard/Trap/", headers=fetch)
    assert trap.status_code == 404 and site.reached() == 0
    statuses = [page(crawler).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = page(crawler)
    assert '"flagged";q=2;w=3600' in refused.headers["ratelimit-policy"]
    assert page(site.client(client=("198.51.100.92", 40000))).status_code == 200  # nobody else


def test_a_claimed_search_bot_that_fails_verification_gets_the_flagged_limit(make_site: Callable[..., Site]) -> None:
    class NoSuchHost:
        async def reverse(self, address: str) -> str | None:
            return None

        async def forward(self, host: str) -> list[str]:
            return []

    site = make_site({**limits({"name": "pages", "limit": "100/minute"}), "scraping": {"verify_search_bots": True}})
    stage = next(stage for stage in site.guard.stages[site.guard.sites[0]] if isinstance(stage, ScrapingStage))
    stage.verifier = BotVerifier(NoSuchHost())
    fake = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    client = site.client(client=("198.51.100.93", 40000))
    assert [page(client, fake).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("order", [("browser", "crawler"), ("crawler", "browser")])
def test_a_second_user_agent_header_cannot_hide_the_crawler(make_site: Callable[..., Site], order: tuple[str, str]) -> None:
    site = make_site()
    agents = {"browser": BROWSER_UA, "crawler": "GPTBot/1.2"}
    reply = raw_request(site.guard, "GET", PAGE, [("host", "testserver"), *(("user-agent", agents[which]) for which in order)])
    assert (reply.status, reply.code) == (403, "automated-access-forbidden")
    assert site.reached() == 0
