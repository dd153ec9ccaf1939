"""The in-process counters of screening: refusals per problem code, accepted and abandoned uploads.

The screening modules raise :class:`~ugc_guard.problems.Problem`; the stage counts and returns it.
Counters hold codes only, never names, addresses or file names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["ScreeningMetrics", "metrics"]


@dataclass
class ScreeningMetrics:
    """Process-wide counts: refusals per problem code, accepted uploads, abandoned uploads."""

    refusals: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    disconnected: int = 0
    """Clients that went away mid-upload (not a refusal: nobody is left to answer)."""

    def snapshot(self) -> dict[str, object]:
        """Return a copy fit for a metrics endpoint or a log line."""
        return {"refusals": dict(self.refusals), "accepted": self.accepted, "disconnected": self.disconnected}


metrics = ScreeningMetrics()
"""The counters of this process; the lead exposes them (``ugc_guard.screening.metrics``)."""
