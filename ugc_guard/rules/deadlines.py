"""Answer deadlines for privacy requests that arrive by e-mail (plain functions, no I/O).

- GDPR Art. 12(3): answer within one month of receipt, extendable by two further months when the
  subject is told within the first month. A month runs to the same date of the next month, or its
  last day when that date does not exist (Regulation 1182/71, art. 3), which calendar-aware month
  arithmetic gives (31 Jan + 1 month = 28/29 Feb).
- CCPA/CPRA (Cal. Code Regs. tit. 11 §7021): confirm receipt within 10 business days, answer within
  45 calendar days, extendable once by 45 more with notice. Business days here are Monday to
  Friday; public holidays are not known to ugc_guard, so a confirmation date may be a day early,
  never late.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from ..policy.types import add_duration

__all__ = ["Deadlines", "Regime", "add_business_days", "deadlines"]

Regime = Literal["gdpr", "ccpa"]


@dataclass(frozen=True)
class Deadlines:
    regime: Regime
    received: dt.date
    confirm_by: dt.date | None
    """CCPA only: the receipt must be confirmed by then."""
    answer_by: dt.date
    extended_answer_by: dt.date
    """The latest answer date when the subject was told of an extension in time."""

    def due(self, *, extended: bool = False) -> dt.date:
        """Return the answer deadline, with or without the extension."""
        return self.extended_answer_by if extended else self.answer_by


def add_business_days(start: dt.date, days: int) -> dt.date:
    """Return the date ``days`` business days (Mon–Fri) after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _add_months(day: dt.date, months: int) -> dt.date:
    anchor = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return add_duration(anchor, f"P{months}M").date()


def deadlines(regime: Regime, received: dt.date) -> Deadlines:
    """Return the deadlines for a request under ``regime`` received on ``received``.

    Raises ValueError for an unknown regime.
    """
    if regime == "gdpr":
        return Deadlines(regime, received, None, _add_months(received, 1), _add_months(received, 3))
    if regime == "ccpa":
        answer = received + dt.timedelta(days=45)
        return Deadlines(regime, received, add_business_days(received, 10), answer, answer + dt.timedelta(days=45))
    raise ValueError(f"unknown regime {regime!r}; use gdpr or ccpa")
