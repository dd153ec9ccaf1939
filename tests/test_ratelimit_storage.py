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
