"""Where Proof of Age nonces wait for the wallet's answer: this process's memory, or the site's Redis
(the one its rate limits use) so any worker can take the answer."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..agecheck import MemoryNonceStore, NonceStore, RedisNonceStore, Taken
from ..problems import Problem

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["SharedNonceStore", "nonce_store_for"]

logger = logging.getLogger("ugc_guard.pages")

REDIS_TIMEOUT = 2.0
"""Seconds a nonce store operation on Redis may take before the age endpoints answer 503."""


class SharedNonceStore:
    """A :class:`RedisNonceStore` that every worker of a site shares. A Redis that cannot be reached is
    Problem ``age-proof-unavailable`` (503), never a 500; one client per event loop (a client's
    connections belong to the loop that opened them)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._stores: dict[asyncio.AbstractEventLoop, RedisNonceStore] = {}

    def _store(self) -> RedisNonceStore:
        loop = asyncio.get_running_loop()
        store = self._stores.get(loop)
        if store is None:
            for old in [known for known in self._stores if known.is_closed()]:
                del self._stores[old]
            store = self._stores[loop] = RedisNonceStore(self._client(), self.prefix)
        return store

    def _client(self) -> Redis:
        from redis.asyncio import Redis

        return Redis.from_url(self.url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)

    async def put(self, key: str, value: str, ttl: float) -> None:
        try:
            await self._store().put(key, value, ttl)
        except Exception as error:
            raise self._unavailable(error) from error

    async def take(self, key: str) -> Taken:
        try:
            return await self._store().take(key)
        except Exception as error:
            raise self._unavailable(error) from error

    def _unavailable(self, error: Exception) -> Problem:
        logger.warning("ugc_guard: the age proof nonce store at %s failed: %r", self.url.split("@")[-1], error)
        return Problem("age-proof-unavailable", "age proofs cannot be checked right now; try again in a minute")


def nonce_store_for(storage: str, campaign: str) -> NonceStore:
    """Return the nonce store for a site whose rate limits use ``storage`` (``rate_limits.storage``).

    ``memory://``: a :class:`MemoryNonceStore` in this process (one worker). ``redis://``, ``rediss://``
    or ``async+redis://``: a :class:`SharedNonceStore` on the same Redis, so a response may reach any
    worker. No connection is made before the first request.
    """
    if storage.startswith("memory://"):
        return MemoryNonceStore()
    return SharedNonceStore(storage.removeprefix("async+"), f"ugc-guard:age-nonce:{campaign}:")
