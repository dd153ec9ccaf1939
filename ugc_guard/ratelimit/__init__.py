"""Rate limits from the campaign policy, on the ``limits`` library; see docs/rate-limits.md."""

from __future__ import annotations

from .limiter import Limiter, client_key
from .stage import RateLimitStage
from .storage import make_storage

__all__ = ["Limiter", "RateLimitStage", "client_key", "make_storage"]
