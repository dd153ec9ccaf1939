"""Clients flagged by the trap path: shared through Redis, or bounded in one process's memory."""

from __future__ import annotations

import time
from collections import OrderedDict

from limits.aio.storage import MemoryStorage, Storage

__all__ = ["FlagStore"]


class FlagStore:
    """Remembers flagged clients for ``ttl`` seconds.

    With a shared storage (Redis) a flag is a counter key with that expiry, so every instance sees
    it; in memory at most ``size`` clients are kept, the oldest flags dropped first.
    """

    def __init__(self, storage: Storage, campaign: str, ttl: float, *, size: int = 100_000) -> None:
        self.ttl = max(1, int(ttl))
        self._prefix = f"ugc-guard/flag/{campaign}/"
        self._storage = None if isinstance(storage, MemoryStorage) else storage
        self._local: OrderedDict[str, float] = OrderedDict()
        self._size = size

    async def flag(self, client: str) -> None:
        """Flag ``client``; raises the storage's errors when it is down."""
        if self._storage is not None:
            await self._storage.incr(self._prefix + client, self.ttl)
            return
        self._local[client] = time.monotonic() + self.ttl
        self._local.move_to_end(client)
        while len(self._local) > self._size:
            self._local.popitem(last=False)

    @property
    def maybe_any(self) -> bool:
        """False when no client can be flagged (nothing in memory), so the lookup can be skipped."""
        return self._storage is not None or bool(self._local)

    async def is_flagged(self, client: str) -> bool:
        """Return whether ``client`` is flagged; raises the storage's errors when it is down."""
        if self._storage is not None:
            return await self._storage.get(self._prefix + client) > 0
        if not self._local:
            return False
        until = self._local.get(client)
        if until is None:
            return False
        if until <= time.monotonic():
            del self._local[client]
            return False
        return True
