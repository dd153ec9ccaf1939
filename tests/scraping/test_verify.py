from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from ugc_guard.scraping import BotVerifier, ScrapingStage

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class FakeResolver:
    def __init__(self, ptr: dict[str, str], a: dict[str, list[str]]) -> None:
        self.ptr, self.a, self.calls = ptr, a, 0

    async def reverse(self, address: str) -> str | None:
        self.calls += 1
        return self.ptr.get(address)

    async def forward(self, host: str) -> list[str]:
        return self.a.get(host, [])


class SlowResolver(FakeResolver):
    async def reverse(self, address: str) -> str | None:
        import asyncio

        self.calls += 1
        await asyncio.sleep(3600)
        return None


REAL = FakeResolver({"66.249.66.1": "crawl-66-249-66-1.googlebot.com."}, {"crawl-66-249-66-1.googlebot.com": ["66.249.66.1"]})


@pytest.mark.parametrize(
    ("address", "resolver", "verified"),
    [
        ("66.249.66.1", REAL, True),
        ("203.0.113.9", REAL, False),  # no PTR
        ("203.0.113.9", FakeResolver({"203.0.113.9": "googlebot.com.evil.example"}, {"googlebot.com.evil.example": ["203.0.113.9"]}), False),
        ("203.0.113.9", FakeResolver({"203.0.113.9": "crawl.googlebot.com"}, {"crawl.googlebot.com": ["66.249.66.1"]}), False),
    ],
)
async def test_reverse_domain_forward(address: str, resolver: FakeResolver, verified: bool) -> None:
    assert await BotVerifier(resolver).verify(address, ("googlebot.com", "google.com")) is verified


async def test_timeouts_count_as_unverified_and_results_are_cached() -> None:
    slow = SlowResolver({}, {})
    verifier = BotVerifier(slow, timeout=0.05)
    assert await verifier.verify("203.0.113.9", ("googlebot.com",)) is False
    assert await verifier.verify("203.0.113.9", ("googlebot.com",)) is False
    assert slow.calls == 1


def _with_resolver(client: TestClient, resolver: FakeResolver) -> TestClient:
    for stages in client.app.stages.values():  # type: ignore[attr-defined]
        for stage in stages:
            if isinstance(stage, ScrapingStage):
                stage.verifier = BotVerifier(resolver)
    return client


def test_fake_googlebot_gets_the_flagged_limit(guarded: Callable[..., TestClient]) -> None:
    policy = {"scraping": {"verify_search_bots": True}, "rate_limits": {"flagged_limit": "2/hour", "trusted_proxies": ["127.0.0.0/8"]}}
    client = _with_resolver(guarded(policy), REAL)
    fake = {"user-agent": GOOGLEBOT, "x-forwarded-for": "203.0.113.9"}
    assert [client.get("/about", headers=fake).status_code for _ in range(3)] == [200, 200, 429]
    real = {"user-agent": GOOGLEBOT, "x-forwarded-for": "66.249.66.1"}
    assert [client.get("/about", headers=real).status_code for _ in range(3)] == [200, 200, 200]
    assert "ratelimit" not in client.get("/about", headers=real).headers


def test_without_verification_claims_are_not_checked(guarded: Callable[..., TestClient]) -> None:
    client = guarded({"rate_limits": {"flagged_limit": "1/hour"}})
    assert [client.get("/about", headers={"user-agent": GOOGLEBOT}).status_code for _ in range(3)] == [200, 200, 200]
