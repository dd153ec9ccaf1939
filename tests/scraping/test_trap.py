from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from ugc_guard.scraping.trap import trap_flags

UA = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"}


def _from(address: str) -> dict[str, str]:
    return {**UA, "x-forwarded-for": address}


POLICY = {
    "rate_limits": {"flagged_limit": "2/hour", "trusted_proxies": ["127.0.0.0/8", "::1/128"], "rules": [{"name": "pages", "limit": "100/hour"}]}
}


def test_trap_flags_the_client_for_the_strictest_limit(guarded: Callable[..., TestClient]) -> None:
    client = guarded(POLICY)
    assert client.get("/about", headers=_from("198.51.100.7")).status_code == 200
    assert client.get("/ugc-guard/trap", headers=_from("198.51.100.7")).status_code == 404
    statuses = [client.get("/about", headers=_from("198.51.100.7")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    flagged = client.get("/about", headers=_from("198.51.100.7"))
    assert '"flagged";q=2;w=3600' in flagged.headers["ratelimit-policy"]
    assert flagged.headers["retry-after"]
    # another client is not affected; the robots.txt still answers the flagged one
    assert client.get("/about", headers=_from("198.51.100.8")).status_code == 200
    assert client.get("/robots.txt", headers=_from("198.51.100.7")).status_code == 200


def test_custom_trap_path_and_ipv6_prefix(guarded: Callable[..., TestClient]) -> None:
    client = guarded({**POLICY, "scraping": {"trap_path": "/do-not-follow"}})
    assert client.get("/Do-Not-Follow/", headers=_from("2001:db8:1:2::1")).status_code == 404
    # the whole /64 is flagged
    statuses = [client.get("/about", headers=_from("2001:db8:1:2::beef")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "Disallow: /do-not-follow" in client.get("/robots.txt").text


def test_flags_are_shared_through_redis(guarded: Callable[..., TestClient], redis_url: str) -> None:
    first, second = guarded(POLICY, rate_limit_storage=redis_url), guarded(POLICY, rate_limit_storage=redis_url)
    assert first.get("/ugc-guard/trap", headers=_from("198.51.100.9")).status_code == 404
    statuses = [second.get("/about", headers=_from("198.51.100.9")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# Requests another page makes a visitor's browser send (an attacker's <img src=https://campaign/trap> and the like).
BROWSER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
STARTED_BY_ANOTHER_PAGE = {
    "cross-site image": {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"},
    "cross-site script": {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script"},
    "cross-site stylesheet": {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "style"},
    "cross-site font": {"sec-fetch-site": "cross-site", "sec-fetch-mode": "cors", "sec-fetch-dest": "font"},
    "cross-site iframe": {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe"},
    "cross-site fetch()": {"sec-fetch-site": "cross-site", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"},
    "cross-site redirect of the whole page": {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
    "same-site image": {"sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"},
    "same-site iframe": {"sec-fetch-site": "same-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe"},
    "same-origin image (injected into one of the site's pages)": {"sec-fetch-site": "same-origin", "sec-fetch-mode": "no-cors",
                                                                  "sec-fetch-dest": "image"},
    "prefetch": {"sec-purpose": "prefetch", "sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"},
    "prerender": {"sec-purpose": "prefetch;prerender", "sec-fetch-site": "none", "sec-fetch-mode": "navigate",
                  "sec-fetch-dest": "document"},
    "legacy prefetch header": {"purpose": "prefetch"},
    "Firefox link prefetch": {"x-moz": "prefetch"},
}  # fmt: skip
FETCHED_BY_THE_CLIENT = {
    "no fetch metadata (a crawler, curl, a script)": {},
    "typed or bookmarked URL": {"sec-fetch-site": "none", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-fetch-user": "?1"},
    "link followed on the site (a headless crawler)": {"sec-fetch-site": "same-origin", "sec-fetch-mode": "navigate",
                                                       "sec-fetch-dest": "document"},
}  # fmt: skip


def _flagged(client: TestClient, address: str) -> bool:
    statuses = [client.get("/about", headers=_from(address)).status_code for _ in range(3)]
    assert statuses in ([200, 200, 200], [200, 200, 429]), statuses
    return statuses[-1] == 429


@pytest.mark.parametrize("headers", STARTED_BY_ANOTHER_PAGE.values(), ids=STARTED_BY_ANOTHER_PAGE.keys())
def test_a_request_another_page_started_never_flags_the_visitor(guarded: Callable[..., TestClient], headers: dict[str, str]) -> None:
    client = guarded(POLICY)
    trap = client.get("/ugc-guard/trap", headers={**_from("198.51.100.20"), "user-agent": BROWSER_UA, **headers})
    assert trap.status_code == 404 and trap.json()["code"] == "not-found"
    assert not _flagged(client, "198.51.100.20")
    assert trap_flags(headers) is False


@pytest.mark.parametrize("headers", FETCHED_BY_THE_CLIENT.values(), ids=FETCHED_BY_THE_CLIENT.keys())
def test_a_client_fetching_the_trap_itself_is_flagged(guarded: Callable[..., TestClient], headers: dict[str, str]) -> None:
    client = guarded(POLICY)
    trap = client.get("/ugc-guard/trap", headers={**_from("198.51.100.21"), "user-agent": BROWSER_UA, **headers})
    assert trap.status_code == 404 and trap.json()["code"] == "not-found"
    assert _flagged(client, "198.51.100.21")
    assert trap_flags(headers) is True


def test_a_head_request_to_the_trap_flags_too(guarded: Callable[..., TestClient]) -> None:
    client = guarded(POLICY)
    assert client.head("/ugc-guard/trap", headers=_from("198.51.100.22")).status_code == 404
    assert _flagged(client, "198.51.100.22")


def test_header_spelling_does_not_matter() -> None:
    assert trap_flags({"sec-fetch-site": " Cross-Site "}) is False
    assert trap_flags({"sec-fetch-dest": "IMAGE", "sec-fetch-mode": "no-cors"}) is False
    assert trap_flags({"sec-fetch-site": "garbage"}) is True
