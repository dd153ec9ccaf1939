"""Verify claimed search-engine crawlers: reverse DNS, domain check, forward DNS back to the address.

This is the method Google documents for Googlebot. Lookups are asynchronous (the event loop's
resolver runs them in a worker thread), bounded by a timeout, and cached per address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import OrderedDict
from typing import Protocol

__all__ = ["BotVerifier", "Resolver", "SystemResolver"]


class Resolver(Protocol):
    async def reverse(self, address: str) -> str | None:
        """Return the host name for ``address`` (PTR), or None."""

    async def forward(self, host: str) -> list[str]:
        """Return the addresses ``host`` resolves to."""


class SystemResolver:
    """The operating system's resolver, through the event loop (never blocking it)."""

    async def reverse(self, address: str) -> str | None:
        loop = asyncio.get_running_loop()
        try:
            host, _ = await loop.getnameinfo((address, 0), socket.NI_NAMEREQD)
        except (OSError, UnicodeError):
            return None
        return host

    async def forward(self, host: str) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return []
        return [str(info[4][0]) for info in infos]


def _same_address(left: str, right: str) -> bool:
    try:
        return ipaddress.ip_address(left.split("%")[0]) == ipaddress.ip_address(right.split("%")[0])
    except ValueError:
        return False


class BotVerifier:
    """Answers "is ``address`` really one of ``domains``' crawlers?", with a bounded cache.

    A lookup that fails or takes longer than ``timeout`` seconds counts as not verified; results
    are kept for ``ttl`` seconds (negative ones too, so a fake bot cannot make us resolve per request).
    """

    def __init__(self, resolver: Resolver | None = None, *, timeout: float = 1.0, ttl: float = 3600.0, size: int = 10_000) -> None:
        self.resolver: Resolver = resolver or SystemResolver()
        self.timeout = timeout
        self.ttl = ttl
        self.size = size
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], tuple[bool, float]] = OrderedDict()

    async def verify(self, address: str | None, domains: tuple[str, ...]) -> bool:
        """Return whether ``address`` reverse-resolves under ``domains`` and that name resolves back to it."""
        if not address:
            return False
        key = (address, domains)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            verified = await asyncio.wait_for(self._lookup(address, domains), self.timeout)
        except TimeoutError:
            verified = False
        self._cache[key] = (verified, now + self.ttl)
        self._cache.move_to_end(key)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return verified

    async def _lookup(self, address: str, domains: tuple[str, ...]) -> bool:
        host = await self.resolver.reverse(address)
        if not host:
            return False
        host = host.rstrip(".").lower()
        if not any(host == domain or host.endswith("." + domain) for domain in domains):
            return False
        return any(_same_address(found, address) for found in await self.resolver.forward(host))
