from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ugc_guard.middleware import UGCGuard
from ugc_guard.policy import Policy
from ugc_guard.ratelimit import RateLimitStage
from ugc_guard.scraping import ScrapingStage


async def _page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("page")


async def _upload(request: Request) -> PlainTextResponse:
    body = await request.body()
    return PlainTextResponse(f"got {len(body)}")


def tiny_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", _page),
            Route("/gallery/{item}", _page),
            Route("/about", _page),
            Route("/upload", _upload, methods=["POST"]),
        ]
    )


@pytest.fixture
def guarded(make_policy: Callable[..., Policy]) -> Callable[..., TestClient]:
    return guarded_factory(make_policy)


def guarded_factory(make_policy: Callable[..., Policy]) -> Callable[..., TestClient]:
    """Return a factory: ``guarded({"scraping": {...}}, peer="192.0.2.1")`` -> a TestClient for the tiny app
    behind UGCGuard, connecting from ``peer`` (default 127.0.0.1)."""

    def build(overrides: dict[str, Any] | None = None, *, peer: str = "127.0.0.1", only_these: bool = False, **guard_options: Any) -> TestClient:
        guard = UGCGuard(tiny_app(), policy=make_policy(overrides), **guard_options)
        if only_these:  # just the scraping and rate-limit stages: upload tests without the terms gate
            for site in guard.sites:
                guard.stages[site] = [stage for stage in guard.stages[site] if isinstance(stage, ScrapingStage | RateLimitStage)]
        return TestClient(guard, base_url="http://testserver", client=(peer, 50000))

    return build
