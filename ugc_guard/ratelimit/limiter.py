"""A policy's rate limits compiled onto the ``limits`` library's asynchronous strategies.

Plain async code over plain data (no starlette): the stage in :mod:`.stage` turns a request into
the scope keys and costs, and the outcomes into headers and refusals.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import STRATEGIES, FixedWindowRateLimiter, RateLimiter

from ..policy.scraping import RateLimits
from ..policy.types import duration_seconds
from .flags import FlagStore
from .headers import policy_item
from .health import StorageHealth
from .storage import make_storage

__all__ = ["Limit", "Limiter", "Outcome", "client_key"]

Scope = Literal["client", "subject", "route"]


@dataclass(frozen=True, slots=True)
class Limit:
    name: str
    """The name in the RateLimit headers (the rule's, numbered when it has several limits)."""
    item: RateLimitItem
    scope: Scope
    bytes: bool
    """True when the cost is uploaded bytes rather than requests."""
    strategy: RateLimiter
    policy_header: str
    key_format: str
    """The storage key with ``{}`` for the scope key: what ``item.key_for(campaign, name, key)`` returns."""


@dataclass(frozen=True, slots=True)
class Outcome:
    limit: Limit
    allowed: bool
    remaining: int
    reset_in: float


def client_key(address: str | None) -> str:
    """Return the key a client address is counted under: the address, or its /64 for IPv6.

    One IPv6 subscriber usually holds a whole /64, so counting single addresses would let one
    client rotate through millions of them.
    """
    if not address:
        return "unknown"
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    except ValueError:
        return address


class Limiter:
    """One campaign's limits, storage, trap flags and storage health."""

    def __init__(self, settings: RateLimits, *, storage_url: str, campaign: str, trap_ttl: float) -> None:
        self.settings = settings
        self.campaign = campaign
        self.storage: Storage = make_storage(storage_url)
        self.health = StorageHealth(campaign)
        self.flags = FlagStore(self.storage, campaign, trap_ttl)
        self.errors: tuple[type[BaseException], ...] = (*_base_exceptions(self.storage), OSError, TimeoutError)
        requests_strategy = STRATEGIES[settings.strategy](self.storage)
        # A moving window stores one entry per unit: far too many for byte counts, so bytes use counters.
        bytes_strategy = requests_strategy if settings.strategy != "moving-window" else STRATEGIES["sliding-window-counter"](self.storage)

        def compile_rule(name: str, limit: str, scope: Scope, counts_bytes: bool) -> list[Limit]:
            items = parse_many(limit)
            compiled = []
            for number, item in enumerate(items, start=1):
                label = name if len(items) == 1 else f"{name}-{number}"
                unit = "content-bytes" if counts_bytes else "requests"
                strategy = bytes_strategy if counts_bytes else requests_strategy
                header = policy_item(label, item.amount, item.get_expiry(), unit)
                key_format = item.key_for(campaign.replace("{", "{{").replace("}", "}}"), label, "{}")
                compiled.append(Limit(label, item, scope, counts_bytes, strategy, header, key_format))
            return compiled

        pages: list[Limit] = []
        uploads: list[Limit] = []
        for rule in settings.rules:
            compiled = compile_rule(rule.name, rule.limit, rule.scope, rule.cost == "content-bytes")
            if rule.group in ("all", "pages"):
                pages += compiled
            if rule.group in ("all", "uploads"):
                uploads += compiled
        flagged = compile_rule("flagged", settings.flagged_limit, "client", False)
        self.policy_headers: dict[tuple[Limit, ...], bytes] = {}
        self.counts_bytes: dict[tuple[Limit, ...], bool] = {}
        self.pages = tuple(pages)
        self.uploads = tuple(uploads)
        self.flagged_pages = (*flagged, *pages)
        self.flagged_uploads = (*flagged, *uploads)
        for limits in (self.pages, self.uploads, self.flagged_pages, self.flagged_uploads):
            self.policy_headers[limits] = ", ".join(limit.policy_header for limit in limits).encode("latin-1")
            self.counts_bytes[limits] = any(limit.bytes for limit in limits)

    @classmethod
    def for_site(cls, policy_limits: RateLimits, storage_url: str, campaign: str, trap_ttl: str) -> Limiter:
        return cls(policy_limits, storage_url=storage_url, campaign=campaign, trap_ttl=duration_seconds(trap_ttl))

    def limits_for(self, upload: bool, flagged: bool) -> tuple[Limit, ...]:
        """Return the limits a request counts against."""
        if flagged:
            return self.flagged_uploads if upload else self.flagged_pages
        return self.uploads if upload else self.pages

    async def charge(self, limit: Limit, key: str, cost: int) -> Outcome:
        """Take ``cost`` from ``limit`` for ``key`` and return the outcome (a zero cost only reads).

        Raises the storage's errors when it is down.
        """
        item, storage = limit.item, self.storage
        if cost > 0 and isinstance(limit.strategy, FixedWindowRateLimiter):
            # FixedWindowRateLimiter.hit + get_window_stats in two storage calls instead of three:
            # the count INCRBY returns is the count get_window_stats would read back.
            storage_key = limit.key_format.format(key)
            count = await storage.incr(storage_key, item.get_expiry(), amount=cost)
            reset = await storage.get_expiry(storage_key)
            return Outcome(limit, count <= item.amount, max(0, item.amount - count), reset - time.time())
        allowed = True
        if cost > 0:
            allowed = await limit.strategy.hit(item, self.campaign, limit.name, key, cost=cost)
        stats = await limit.strategy.get_window_stats(item, self.campaign, limit.name, key)
        return Outcome(limit, allowed, stats.remaining, stats.reset_time - time.time())


def _base_exceptions(storage: Storage) -> tuple[type[BaseException], ...]:
    try:
        found = storage.base_exceptions
    except Exception:  # a storage whose driver is missing reports it on first use
        return ()
    return found if isinstance(found, tuple) else (found,)
