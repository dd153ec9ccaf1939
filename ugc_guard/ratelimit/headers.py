"""RateLimit-Policy and RateLimit header values (draft-ietf-httpapi-ratelimit-headers-10).

Both are structured-field lists of items named by a quoted string: ``"burst";q=100;w=60`` and
``"burst";r=0;t=42``; ``t`` is seconds from now, never a timestamp.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["join", "policy_item", "retry_after", "state_item"]


def policy_item(name: str, quota: int, window: int, unit: str = "requests") -> str:
    """Return one RateLimit-Policy list member; ``unit`` other than requests becomes ``qu``."""
    item = f'"{name}";q={quota};w={window}'
    return item if unit == "requests" else f'{item};qu="{unit}"'


def state_item(name: str, remaining: int, reset_in: float) -> str:
    """Return one RateLimit list member: remaining quota and whole seconds until it resets."""
    return f'"{name}";r={max(0, remaining)};t={max(0, math.ceil(reset_in))}'


def retry_after(reset_in: float) -> str:
    """Return a Retry-After delay-seconds value (at least 1)."""
    return str(max(1, math.ceil(reset_in)))


def join(items: Iterable[str]) -> str:
    return ", ".join(items)
