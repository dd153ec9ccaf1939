from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

UA = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"}


def _from(address: str) -> dict[str, str]:
    return {**UA, "x-forwarded-for": address}


POLICY = {"rate_limits": {"flagged_limit": "2/hour", "trusted_proxies": ["127.0.0.0/8", "::1/128"],
                          "rules": [{"name": "pages", "limit": "100/hour"}]}}


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
