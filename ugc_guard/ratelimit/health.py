"""Storage health and throttled logging, so a dead Redis costs neither time nor a flood of log lines."""

from __future__ import annotations

import logging
import time

__all__ = ["StorageHealth", "ThrottledLog"]

logger = logging.getLogger("ugc_guard.ratelimit")


class ThrottledLog:
    """Logs at most one line per ``interval`` seconds, counting the lines it held back."""

    def __init__(self, interval: float = 60.0, level: int = logging.WARNING) -> None:
        self.interval = interval
        self.level = level
        self._next = 0.0
        self._held = 0

    def log(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now < self._next:
            self._held += 1
            return
        held, self._held, self._next = self._held, 0, now + self.interval
        suffix = f" ({held} similar messages suppressed)" if held else ""
        logger.log(self.level, message + suffix, *args)


class StorageHealth:
    """After a storage error, the storage counts as down for ``retry`` seconds without being asked."""

    def __init__(self, campaign: str, *, retry: float = 1.0) -> None:
        self.campaign = campaign
        self.retry = retry
        self._down_until = 0.0
        self._down = False
        self._log = ThrottledLog()

    @property
    def available(self) -> bool:
        return not self._down or time.monotonic() >= self._down_until

    def failed(self, error: BaseException, fail: str) -> None:
        self._down = True
        self._down_until = time.monotonic() + self.retry
        action = "letting requests through (fail: open)" if fail == "open" else "refusing requests with 503 (fail: closed)"
        self._log.log("ugc_guard: campaign %s: rate-limit storage unavailable (%s: %s); %s", self.campaign, type(error).__name__, error, action)

    def succeeded(self) -> None:
        if self._down:
            self._down = False
            logger.warning("ugc_guard: campaign %s: rate-limit storage is available again", self.campaign)
