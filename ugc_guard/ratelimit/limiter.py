"""A policy's rate limits compiled onto the ``limits`` library's asynchronous strategies.

Plain async code over plain data (no starlette): the stage in :mod:`.stage` turns a request into
the scope keys and costs, and the outcomes into headers and refusals.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter, SlidingWindowCounterRateLimiter

from ..identity import client_key
from ..policy.scraping import RateLimits
from ..policy.types import duration_seconds
from .flags import FlagStore
from .headers import policy_item
from .health import StorageHealth
from .storage import CountingMemoryStorage, ServerClockRedisStorage, make_storage

__all__ = ["Limit", "LimitSet", "Limiter", "Outcome", "client_key"]

Scope = Literal["client", "subject", "route"]
STRATEGIES: dict[str, Callable[[Storage], RateLimiter]] = {
    "fixed-window": FixedWindowRateLimiter,
    "moving-window": MovingWindowRateLimiter,
    "sliding-window-counter": SlidingWindowCounterRateLimiter,
}
"""The policy's strategy names (those of ``limits``), typed as what they build."""


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity: built once per site
class Limit:
    name: str
    """The name in the RateLimit headers (the rule's, numbered when it has several limits)."""
    item: RateLimitItem
    scope: Scope
    bytes: bool
    """True when the cost is uploaded bytes rather than requests."""
    strategy: RateLimiter
    policy_header: str
    key_head: str
    key_tail: str
    """The storage key is ``key_head + key + key_tail``: what ``item.key_for(campaign, name, key)`` returns."""
    fixed_window: bool
    moving_window: bool
    expiry: int
    """``item.get_expiry()``: the window in seconds."""
    state_prefix: str
    """The start of this limit's RateLimit list member: ``"name";r=``."""


@dataclass(frozen=True, slots=True, eq=False)
class LimitSet:
    """The limits one kind of request counts against, with what the stage needs precomputed."""

    limits: tuple[Limit, ...]
    policy_header: bytes
    """The RateLimit-Policy value."""
    counts_bytes: bool
    byte_limits: tuple[Limit, ...]


@dataclass(slots=True, eq=False)
class Outcome:
    limit: Limit
    allowed: bool
    remaining: int
    reset_in: float


class Limiter:
    """One campaign's limits, storage, trap flags and storage health."""

    def __init__(self, settings: RateLimits, *, storage_url: str, campaign: str, trap_ttl: float) -> None:
        self.settings = settings
        self.campaign = campaign
        self.storage: Storage = make_storage(storage_url)
        self.health = StorageHealth(campaign)
        self.flags = FlagStore(self.storage, campaign, trap_ttl)
        self.errors: tuple[type[BaseException], ...] = (*_base_exceptions(self.storage), OSError, TimeoutError)
        # The fixed window's count and expiry in one call: synchronous in memory, one round trip on Redis.
        self._count_now: Callable[[str, int, int], tuple[int, float]] | None = None
        # The moving window's take and read in one call, synchronous in memory.
        self._moving_now: Callable[[str, int, int, int], tuple[bool, int, float]] | None = None
        self._count: Callable[[str, int, int], Awaitable[tuple[int, float]]] = self._count_in_two_calls
        if isinstance(self.storage, CountingMemoryStorage):
            self._count_now = self.storage.count
            self._moving_now = self.storage.moving
        elif isinstance(self.storage, ServerClockRedisStorage):
            self._count = self.storage.count
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
                key_head, key_tail = item.key_for(campaign, label, "\0").split("\0")  # ids hold no NUL
                fixed = isinstance(strategy, FixedWindowRateLimiter)
                moving = isinstance(strategy, MovingWindowRateLimiter)
                compiled.append(
                    Limit(label, item, scope, counts_bytes, strategy, header, key_head, key_tail, fixed, moving, item.get_expiry(),
                          f'"{label}";r=')
                )
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
        self.pages = _limit_set(pages)
        self.uploads = _limit_set(uploads)
        self.flagged_pages = _limit_set([*flagged, *pages])
        self.flagged_uploads = _limit_set([*flagged, *uploads])

    @classmethod
    def for_site(cls, policy_limits: RateLimits, storage_url: str, campaign: str, trap_ttl: str) -> Limiter:
        return cls(policy_limits, storage_url=storage_url, campaign=campaign, trap_ttl=duration_seconds(trap_ttl))

    def limits_for(self, upload: bool, flagged: bool) -> LimitSet:
        """Return the limits a request counts against."""
        if flagged:
            return self.flagged_uploads if upload else self.flagged_pages
        return self.uploads if upload else self.pages

    def charge_now(self, limit: Limit, key: str, cost: int) -> Outcome | None:
        """:meth:`charge` without an ``await`` when the storage can answer at once (a fixed or moving
        window in memory); None when it cannot, and the caller awaits :meth:`charge` instead."""
        if cost <= 0:
            return None
        amount = limit.item.amount
        if limit.fixed_window:
            count_now = self._count_now
            if count_now is None:
                return None
            count, reset = count_now(limit.key_head + key + limit.key_tail, limit.expiry, cost)
            return Outcome(limit, count <= amount, amount - count if count < amount else 0, reset - time.time())
        moving_now = self._moving_now
        if moving_now is None or not limit.moving_window:
            return None
        allowed, count, oldest = moving_now(limit.key_head + key + limit.key_tail, amount, limit.expiry, cost)
        return Outcome(limit, allowed, amount - count if count < amount else 0, oldest + limit.expiry - time.time())

    async def flag_client(self, address: str | None) -> None:
        """Flag a client (the trap path); a storage that is down is noted in :attr:`health`, never raised."""
        try:
            await self.flags.flag(client_key(address))
        except self.errors as error:
            self.health.failed(error, self.settings.fail)

    async def charge(self, limit: Limit, key: str, cost: int) -> Outcome:
        """Take ``cost`` from ``limit`` for ``key`` and return the outcome (a zero cost only reads).

        Raises the storage's errors when it is down.
        """
        item = limit.item
        if cost > 0 and limit.fixed_window:
            # FixedWindowRateLimiter.hit + get_window_stats in one storage call instead of three:
            # the count INCRBY returns is the count get_window_stats would read back.
            outcome = self.charge_now(limit, key, cost)
            if outcome is not None:
                return outcome
            count, reset = await self._count(limit.key_head + key + limit.key_tail, limit.expiry, cost)
            return Outcome(limit, count <= item.amount, max(0, item.amount - count), reset - time.time())
        allowed = True
        if cost > 0:
            allowed = await limit.strategy.hit(item, self.campaign, limit.name, key, cost=cost)
        stats = await limit.strategy.get_window_stats(item, self.campaign, limit.name, key)
        return Outcome(limit, allowed, stats.remaining, stats.reset_time - time.time())

    async def _count_in_two_calls(self, storage_key: str, expiry: int, cost: int) -> tuple[int, float]:
        """The fixed-window count on a storage without :meth:`count`: two calls."""
        storage = self.storage
        count = await storage.incr(storage_key, expiry, amount=cost)
        return count, await storage.get_expiry(storage_key)


def _limit_set(limits: list[Limit]) -> LimitSet:
    header = ", ".join(limit.policy_header for limit in limits).encode("latin-1")
    byte_limits = tuple(limit for limit in limits if limit.bytes)
    return LimitSet(tuple(limits), header, bool(byte_limits), byte_limits)


def _base_exceptions(storage: Storage) -> tuple[type[BaseException], ...]:
    try:
        found = storage.base_exceptions
    except Exception:  # a storage whose driver is missing reports it on first use
        return ()
    return found if isinstance(found, tuple) else (found,)
