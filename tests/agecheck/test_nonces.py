"""Both nonce stores: a value is taken once, then reads as used until it expires; Redis shares it between workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ugc_guard.agecheck import MemoryNonceStore, NonceStore, RedisNonceStore, Taken


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_store_takes_once_then_forgets_after_the_ttl() -> None:
    clock = Clock()
    store = MemoryNonceStore(clock=clock)
    await store.put("k", "value", 60)
    assert await store.take("k") == Taken("fresh", "value")
    assert await store.take("k") == Taken("used")
    clock.now += 61
    assert await store.take("k") == Taken("unknown")
    await store.put("late", "v", 60)
    clock.now += 60
    assert await store.take("late") == Taken("unknown")


async def test_memory_store_stays_bounded() -> None:
    clock = Clock()
    store = MemoryNonceStore(max_entries=3, clock=clock)
    for index in range(5):
        await store.put(f"k{index}", str(index), 60)
    assert [(await store.take(f"k{index}")).state for index in range(5)] == ["unknown", "unknown", "fresh", "fresh", "fresh"]


async def test_memory_store_sweeps_expired_entries_on_put() -> None:
    clock = Clock()
    store = MemoryNonceStore(clock=clock)
    for index in range(100):
        await store.put(f"old{index}", "v", 10)
    clock.now += 11
    await store.put("new", "v", 10)
    assert len(store._entries) == 1


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisNonceStore]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        yield RedisNonceStore(client)
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_store_takes_once_and_keeps_the_ttl(redis_store: RedisNonceStore, redis_url: str) -> None:
    await redis_store.put("k", "value", 60)
    assert await redis_store.take("k") == Taken("fresh", "value")
    assert await redis_store.take("k") == Taken("used")
    assert await redis_store.take("never") == Taken("unknown")
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        assert 0 < await client.pttl("ugc-guard:age-nonce:k") <= 60_000  # the used marker expires with the nonce
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_store_lets_exactly_one_of_many_concurrent_takers_win(redis_url: str) -> None:
    from redis.asyncio import Redis

    clients = [Redis.from_url(redis_url) for _ in range(8)]  # eight "workers"
    try:
        stores: list[NonceStore] = [RedisNonceStore(client) for client in clients]
        await stores[0].put("race", "value", 60)
        results = await asyncio.gather(*(store.take("race") for store in stores))
        assert sorted(result.state for result in results) == ["fresh"] + ["used"] * 7
    finally:
        for client in clients:
            await client.aclose()
