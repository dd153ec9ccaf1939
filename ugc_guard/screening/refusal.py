"""Refusals raised by the screening logic, and the in-process counters of them.

The decision modules raise :class:`Refusal` (plain Python, no web framework); the stage turns it
into a :class:`~ugc_guard.problems.Problem` and counts it. Counters hold codes only, never names,
addresses or file names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Refusal", "ScreeningMetrics", "metrics"]


class Refusal(Exception):
    """A screening verdict against the upload: ``code`` is a problem code from ``ugc_guard.problems``."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


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
