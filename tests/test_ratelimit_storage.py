from __future__ import annotations

import asyncio
import time

import pytest

from ugc_guard.ratelimit.storage import CountingMemoryStorage


def test_count_is_incr_and_get_expiry_in_one_call() -> None:
    storage = CountingMemoryStorage()
    count, until = storage.count("k", 60, 1)
    assert count == 1 and time.time() + 59 < until <= time.time() + 60
    assert storage.count("k", 60, 4) == (5, until)

    async def inherited() -> tuple[int, int, float]:  # the other strategies' path sees the same counter
        return await storage.incr("k", 60), await storage.get("k"), await storage.get_expiry("k")

    assert asyncio.run(inherited()) == (6, 6, until)


def test_expired_windows_restart_and_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    storage = CountingMemoryStorage()
    for number in range(100):
        storage.count(f"client-{number}", 10, 1)
    storage.count("late", 20, 1)
    now[0] += 10
    assert storage.count("client-0", 10, 1) == (1, 1020.0)  # a new window, not 2
    assert set(storage.storage) == {"client-0", "late"}  # the 99 expired windows are gone
    assert set(storage.expirations) == {"client-0", "late"}
    now[0] += 10
    storage.count("other", 10, 1)
    assert set(storage.storage) == {"other"}


def test_moving_window_in_one_call_matches_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """The synchronous moving window admits, counts and resets exactly as ``limits``' own strategy."""
    from limits import parse
    from limits.aio.storage import MemoryStorage
    from limits.aio.strategies import MovingWindowRateLimiter

    now = [5000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    item = parse("3/10 seconds")
    ours = CountingMemoryStorage()
    reference = MovingWindowRateLimiter(MemoryStorage())

    async def library(cost: int) -> tuple[bool, int, float]:
        allowed = await reference.hit(item, "k", cost=cost)
        stats = await reference.get_window_stats(item, "k")
        return allowed, 3 - stats.remaining, stats.reset_time - 10

    steps = [(0.0, 1), (1.0, 1), (2.0, 1), (3.0, 1), (10.5, 1), (11.0, 2), (11.5, 1), (25.0, 4), (25.0, 3), (40.0, 1)]
    start = now[0]
    for at, cost in steps:
        now[0] = start + at
        allowed, count, oldest = ours.moving("k", 3, 10, cost)
        expected = asyncio.run(library(cost))
        assert (allowed, count) == expected[:2], (at, cost)
        # an empty window starts now (the library then names an entry that has left it, so it resets in the past)
        assert oldest == (expected[2] if count else now[0]), (at, cost)
    assert [ours.moving("k", 3, 10, 1)[:2] for _ in range(3)] == [(True, 2), (True, 3), (False, 3)]  # 1 taken at 40.0 before
    assert len(ours._moving_events["k"]) == 3  # never more entries than the limit


def test_idle_moving_windows_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    storage = CountingMemoryStorage()
    for number in range(50):
        storage.moving(f"client-{number}", 5, 10, 1)
    now[0] += 5
    storage.moving("client-0", 5, 10, 1)  # still in use at 1010: kept
    now[0] += 6
    assert storage.moving("other", 5, 10, 1) == (True, 1, now[0])
    assert set(storage._moving_events) == {"client-0", "other"}
    assert storage.moving("client-0", 5, 10, 1) == (True, 2, 1005.0)
