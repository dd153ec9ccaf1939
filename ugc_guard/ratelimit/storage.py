"""Rate-limit storage: ``memory://`` for one process, Redis shared by several instances.

On Redis every count is changed by one atomic command or Lua script, so two instances can never
both take the last unit of a limit. The ``limits`` library's own Redis code takes the moving
window's timestamps from each instance's wall clock and sets a fixed window's expiry in a second
round trip; :class:`ServerClockRedisStorage` replaces those two with scripts that read Redis'
``TIME`` and do ``INCRBY`` + ``EXPIRE`` in one step, so all instances share one clock (Redis') and
a crash cannot leave a counter without expiry. The sliding window counter already runs entirely in
Redis (``PTTL``), unchanged.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from typing import Any

from limits.aio.storage import MemoryStorage, RedisStorage, Storage

__all__ = ["REDIS_TIMEOUT", "CountingMemoryStorage", "ServerClockRedisStorage", "make_storage"]

REDIS_TIMEOUT = 0.25
"""Seconds to connect or wait for Redis before the storage counts as down."""

_ACQUIRE_MOVING_WINDOW = """
local now = redis.call('TIME')
local timestamp = tonumber(now[1]) + tonumber(now[2]) / 1000000
local limit = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
if amount > limit then
    return false
end
local entry = redis.call('lindex', KEYS[1], limit - amount)
if entry and tonumber(entry) >= timestamp - expiry then
    return false
end
for i = 1, amount do
    redis.call('lpush', KEYS[1], tostring(timestamp))
end
redis.call('ltrim', KEYS[1], 0, limit - 1)
redis.call('expire', KEYS[1], expiry)
return true
"""

# Returns {oldest entry in the window, entries in the window, Redis' now}.
_MOVING_WINDOW = """
local now = redis.call('TIME')
local timestamp = tonumber(now[1]) + tonumber(now[2]) / 1000000
local target = timestamp - tonumber(ARGV[1])
local items = redis.call('lrange', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local count = 0
local oldest = timestamp
for _, value in ipairs(items) do
    local entry = tonumber(value)
    if entry >= target then
        count = count + 1
        oldest = entry
    else
        break
    end
end
return {tostring(oldest), count, tostring(timestamp)}
"""

_INCR_EXPIRE = """
local current = redis.call('incrby', KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call('expire', KEYS[1], ARGV[1])
end
return current
"""

# The fixed window in one round trip: {count after INCRBY, seconds the window has left}.
_INCR_EXPIRE_TTL = """
local current = redis.call('incrby', KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call('expire', KEYS[1], ARGV[1])
end
return {current, redis.call('ttl', KEYS[1])}
"""


class CountingMemoryStorage(MemoryStorage):
    """``limits``' memory storage with synchronous fixed-window and moving-window counts for the hot path.

    :meth:`count` is :meth:`incr` followed by :meth:`get_expiry`, done without a lock, an expiry
    task or an ``await``: on one event loop a call that never yields is atomic. Expired windows are
    dropped from a heap ordered by expiry, so the cost per call stays O(log n) however many clients
    have been counted. The other strategies use the inherited methods unchanged.
    """

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._windows: list[tuple[float, str]] = []
        self._moving_events: dict[str, deque[float]] = {}
        """Moving windows counted by :meth:`moving`: key -> entry timestamps, newest first."""
        self._moving: list[tuple[float, str, int]] = []
        """(when to look at a moving window's key again, key, its expiry): a heap ordered by time."""

    def count(self, key: str, expiry: int, amount: int) -> tuple[int, float]:
        """Add ``amount`` to the window of ``key``; return its count and when it ends (``time.time()``)."""
        now = time.time()
        windows = self._windows
        if windows and windows[0][0] <= now:
            self._drop_expired(now)
        until = self.expirations.get(key, 0.0)
        if until <= now:  # a new window
            until = now + expiry
            self.expirations[key] = until
            self.storage[key] = amount
            heapq.heappush(windows, (until, key))
            return amount, until
        count = self.storage[key] + amount
        self.storage[key] = count
        return count, until

    def _drop_expired(self, now: float) -> None:
        windows, expirations = self._windows, self.expirations
        while windows and windows[0][0] <= now:
            until, key = heapq.heappop(windows)
            if expirations.get(key) == until:
                del expirations[key]
                self.storage.pop(key, None)
                self.locks.pop(key, None)

    def moving(self, key: str, limit: int, expiry: int, amount: int) -> tuple[bool, int, float]:
        """The moving window's ``acquire_entry`` then ``get_moving_window`` in one synchronous call.

        Takes ``amount`` entries when the window has room; returns whether it did, how many entries
        the window now holds and when its oldest entry was taken (``time.time()``), exactly as
        ``limits``' strategy would. The entries are timestamps, newest first, in a deque of at most
        ``limit`` (older ones can never count again), kept apart from the inherited ``events``: the
        library's expiry task, which runs in a thread and rewrites those lists, never touches them.
        A key whose newest entry has expired is dropped, so memory stays bounded by the active clients.
        """
        now = time.time()
        idle = self._moving
        if idle and idle[0][0] <= now:
            self._drop_idle(now)
        events = self._moving_events.get(key)
        if events is None:
            events = self._moving_events[key] = deque(maxlen=limit)
            heapq.heappush(idle, (now + expiry, key, expiry))
        cutoff = now - expiry
        while events and events[-1] < cutoff:  # left the window for good (cutoff only grows)
            events.pop()
        allowed = amount <= limit and not (len(events) > limit - amount and events[limit - amount] >= cutoff)
        if allowed:
            events.extendleft([now] * amount)  # the deque's bound drops what no longer counts
        count = len(events)
        while count and events[count - 1] <= cutoff:  # an entry exactly at the cutoff blocks but is not counted (as in limits)
            count -= 1
        return allowed, count, events[count - 1] if count else now

    def _drop_idle(self, now: float) -> None:
        idle, windows = self._moving, self._moving_events
        while idle and idle[0][0] <= now:
            _, key, expiry = heapq.heappop(idle)
            events = windows.get(key)
            if events and events[0] + expiry > now:  # still in use: look again when its newest entry expires
                heapq.heappush(idle, (events[0] + expiry, key, expiry))
            elif events is not None:
                del windows[key]


class ServerClockRedisStorage(RedisStorage):
    """``limits``' Redis storage (coredis) with Redis' clock for moving windows and atomic fixed windows."""

    def __init__(self, uri: str, **options: Any) -> None:
        super().__init__(uri, implementation="coredis", **options)
        connection = self.bridge.get_connection()  # type: ignore[attr-defined]
        self._acquire = connection.register_script(_ACQUIRE_MOVING_WINDOW)
        self._window = connection.register_script(_MOVING_WINDOW)
        self._incr = connection.register_script(_INCR_EXPIRE)
        self._incr_ttl = connection.register_script(_INCR_EXPIRE_TTL)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return int(await self._incr.execute([self.bridge.prefixed_key(key)], [int(expiry), amount]))

    async def count(self, key: str, expiry: int, amount: int) -> tuple[int, float]:
        """:meth:`incr` and :meth:`get_expiry` in one round trip: the count and when the window ends."""
        current, ttl = await self._incr_ttl.execute([self.bridge.prefixed_key(key)], [int(expiry), amount])
        return int(current), max(int(ttl), 0) + time.time()

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        return bool(await self._acquire.execute([self.bridge.prefixed_key(key)], [limit, expiry, amount]))

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        oldest, count, now = await self._window.execute([self.bridge.prefixed_key(key)], [expiry, limit])
        # Report the window start on this machine's clock: callers subtract time.time() from it.
        return float(oldest) - float(now) + time.time(), int(count)


def make_storage(url: str) -> Storage:
    """Return the asynchronous ``limits`` storage for a policy URL (``memory://`` or ``redis://…``).

    Redis operations time out after :data:`REDIS_TIMEOUT` seconds.
    """
    if url.startswith("memory://"):
        return CountingMemoryStorage()
    uri = url if url.startswith("async+") else "async+" + url
    return ServerClockRedisStorage(uri, connect_timeout=REDIS_TIMEOUT, stream_timeout=REDIS_TIMEOUT)
