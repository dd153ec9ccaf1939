"""A small per-site cache of subject statuses, so an accepted subject's upload costs no query.

Staleness bound: an entry lives at most ``ttl`` seconds (default 5). Writes made by this process
(acceptance, guardian confirmation) replace or drop the entry at once; writes made by another
instance (a withdrawal, a confirmation served elsewhere) are seen within ``ttl``. An entry also
remembers the terms version it was read under and is ignored when the policy's version differs.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from ..rules.standing import Standing

__all__ = ["StatusCache"]


class StatusCache:
    """Bounded LRU of ``subject -> (terms version, status, expiry)``; not shared between processes."""

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("StatusCache needs ttl >= 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[str, Standing, float]] = OrderedDict()

    def get(self, subject: str, terms_version: str) -> Standing | None:
        """Return the cached status if fresh and read under ``terms_version``, else None."""
        entry = self._entries.get(subject)
        if entry is None:
            return None
        version, status, expires = entry
        if version != terms_version or expires <= self._clock():
            del self._entries[subject]
            return None
        self._entries.move_to_end(subject)
        return status

    def put(self, subject: str, terms_version: str, status: Standing) -> None:
        if self.ttl == 0:
            return
        self._entries[subject] = (terms_version, status, self._clock() + self.ttl)
        self._entries.move_to_end(subject)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, subject: str) -> None:
        self._entries.pop(subject, None)

    def __len__(self) -> int:
        return len(self._entries)
