"""Policy for robots, scrapers, AI crawlers and rate limits."""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from limits import parse_many
from pydantic import AnyHttpUrl, Field, field_validator

from .base import Section
from .types import Duration


def _check_limit(value: str) -> str:
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a rate limit; write it like 10/minute, 100/hour or 5 per 10 seconds") from None
    return value


class Robots(Section):
    ai_crawlers: Literal["site", "content", "none"] = "site"
    """Where robots.txt disallows AI crawlers: the whole site, only ``content_paths``, or nowhere."""
    content_paths: list[str] = []
    """Paths holding user content (robots.txt patterns such as ``/gallery/``)."""
    disallow: list[str] = []
    """Paths disallowed for every crawler (upload routes and the prefix are always added)."""
    sitemap: AnyHttpUrl | None = None

    @field_validator("content_paths", "disallow")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/") or any(c in path for c in "\r\n #"):
                raise ValueError(f"{path!r} is not a robots.txt path; start it with / and use only * and $ as wildcards")
        return paths


class Scraping(Section):
    robots: Robots = Robots()
    block_ai_crawlers: bool = True
    """Refuse requests from the AI crawlers in the shipped agent list (403)."""
    block_scraping_tools: bool = True
    """Refuse common scraping tools and headless browsers (curl, wget, python-requests, Scrapy, HeadlessChrome…)."""
    allow_agents: list[str] = []
    """Agent tokens never blocked (wins over every list)."""
    deny_agents: list[str] = []
    """Extra agent tokens to block."""
    tdm_reservation: bool = True
    """Reserve text and data mining rights (EU DSM Art. 4): tdmrep.json and the tdm-reservation header."""
    tdm_policy: AnyHttpUrl | None = None
    noai_headers: bool = True
    """Send ``X-Robots-Tag: noai, noimageai`` and ``Content-Usage: train-ai=n``."""
    trap_path: str | None = None
    """A path disallowed in robots.txt and never linked; who fetches it is flagged. Default: ``{prefix}/trap``."""
    trap_ttl: Duration = "PT1H"
    verify_search_bots: bool = False
    """Check claimed Googlebot/Bingbot by reverse and forward DNS; unverified claimants count as unknown bots."""
    dns_timeout: float = Field(1.0, gt=0, le=10)

    @field_validator("allow_agents", "deny_agents")
    @classmethod
    def _tokens(cls, tokens: list[str]) -> list[str]:
        for token in tokens:
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,79}$", token.strip()):
                raise ValueError(f"{token!r} is not an agent token; use the product token, e.g. GPTBot")
        return [token.strip() for token in tokens]


class RateLimitRule(Section):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    """Name used in the RateLimit headers."""
    limit: str
    """``10/minute``, ``100/hour``, ``5 per 10 seconds``; several separated by ``;``."""
    scope: Literal["client", "subject", "route"] = "client"
    """Counted per client address, per subject, or per route for everyone."""
    group: Literal["all", "uploads", "pages"] = "all"
    """Which requests count: all, upload routes only, or everything but upload routes."""
    cost: Literal["requests", "content-bytes"] = "requests"
    """Count requests, or uploaded bytes (then the limit's amount is bytes)."""

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: str) -> str:
        return _check_limit(value)


class RateLimits(Section):
    storage: str = "memory://"
    """``memory://`` for one process, ``redis://127.0.0.1:6379`` shared by several instances."""
    strategy: Literal["fixed-window", "moving-window", "sliding-window-counter"] = "moving-window"
    fail: Literal["open", "closed"] = "open"
    """What happens when the storage is down: let requests through, or refuse them with 503."""
    report_only: bool = False
    """Send headers and log would-be refusals, but refuse nothing."""
    trusted_proxies: list[IPv4Network | IPv6Network] = []
    """Networks of proxies whose X-Forwarded-For / Forwarded headers are believed."""
    flagged_limit: str = "2/minute"
    """The strictest limit, for clients that fetched the trap path."""
    rules: list[RateLimitRule] = []

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not re.match(r"^(memory|redis|rediss|async\+redis)://", value):
            raise ValueError(f"{value!r} is not a rate-limit storage; use memory:// or redis://host:port")
        return value

    @field_validator("flagged_limit")
    @classmethod
    def _flagged(cls, value: str) -> str:
        return _check_limit(value)
