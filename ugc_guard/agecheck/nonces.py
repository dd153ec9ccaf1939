"""Single-use nonces with a time to live: where a request waits for its one response.

:class:`NonceStore` is the interface. :class:`MemoryNonceStore` (the default) lives in one process:
with several workers a response may reach a worker that never saw the request, so give every worker
the same :class:`RedisNonceStore` there. A taken nonce leaves a marker until its time runs out, so
a replay is told apart from a nonce that was never issued.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["MemoryNonceStore", "NonceStore", "RedisNonceStore", "Taken"]


@dataclass(frozen=True, slots=True)
class Taken:
    state: Literal["fresh", "used", "unknown"]
    """``fresh``: taken now (``value`` holds what was put); ``used``: taken before; ``unknown``: never put, or expired."""
    value: str | None = None


class NonceStore(Protocol):
    async def put(self, key: str, value: str, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds."""

    async def take(self, key: str) -> Taken:
        """Return the value under ``key`` the first time, atomically; ``used`` or ``unknown`` after that."""


class MemoryNonceStore:
    """A store in this process's memory; holds at most ``max_entries`` (the oldest are dropped first)."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    async def put(self, key: str, value: str, ttl: float) -> None:
        now = self._clock()
        self._sweep(now)
        while len(self._entries) >= self._max:
            self._entries.popitem(last=False)
        self._entries[key] = (now + ttl, value)

    async def take(self, key: str) -> Taken:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            self._entries.pop(key, None)
            return Taken("unknown")
        expires, value = entry
        if value is None:
            return Taken("used")
        self._entries[key] = (expires, None)
        return Taken("fresh", value)

    def _sweep(self, now: float) -> None:
        # Entries are put in time order with one TTL per site, so the expired ones are at the front.
        while self._entries:
            key, (expires, _value) = next(iter(self._entries.items()))
            if expires > now:
                break
            del self._entries[key]


_USED = "\x00used"
_TAKE = """
local value = redis.call('GET', KEYS[1])
if value and value ~= ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') end
return value
"""


class RedisNonceStore:
    """A store every worker shares, in Redis (6.0 or later: the take is one atomic script using KEEPTTL)."""

    def __init__(self, client: Redis, prefix: str = "ugc-guard:age-nonce:") -> None:
        self._client = client
        self._prefix = prefix

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self._client.set(self._prefix + key, value, px=max(1, int(ttl * 1000)), nx=True)

    async def take(self, key: str) -> Taken:
        raw: object = await self._client.eval(_TAKE, 1, self._prefix + key, _USED)
        value = raw.decode() if isinstance(raw, bytes) else raw
        if value is None:
            return Taken("unknown")
        if value == _USED:
            return Taken("used")
        return Taken("fresh", str(value))
