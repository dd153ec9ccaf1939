"""An age band, once declared, cannot be talked up by declaring again.

Plain functions over plain data. A band says the person's age lies in a range (``16-17``: 16 or 17
on that day). A new declaration whose band starts above that range contradicts it (a 16-year-old
who now types 1990) and is refused (``age-redeclared``) unless it comes through a stronger method
(:func:`strength`) or the earlier declaration itself says the person has come of age by now (its
``reconfirm_due``). A band that does not contradict the earlier one, lower ones included, is
recorded as usual: a person may always say they are younger.

:class:`RecentRefusals` remembers, in this process only, the bands refused as too young (nothing of
those is recorded in the ledger), so the same subject cannot simply type an older date next.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ASSURANCE_RANK", "Declared", "RecentRefusals", "band_range", "contradicts", "strength"]

ASSURANCE_RANK: dict[str, int] = {
    "self-declared": 0,
    "mobile-operator": 1,
    "card": 1,
    "document": 2,
    "eu-age-verification": 3,
}
"""How much an age result is worth, by its recorded assurance (domain notes §1 and §8)."""
METHOD_FLOOR: dict[str, int] = {"birth_date": 0, "age_band": 0, "external": 1, "eu-age-verification": 3}
"""The least a method is worth whatever assurance a policy names: a typed date or band is a self-declaration."""

_AT_LEAST = re.compile(r"(\d{1,3})\+", re.ASCII)
_BETWEEN = re.compile(r"(\d{1,3})-(\d{1,3})", re.ASCII)
_UNDER = re.compile(r"under-(\d{1,3})", re.ASCII)


def strength(method: str | None, assurance: str | None) -> int:
    """Return the strength of an age method: 0 self-declared (a typed birth date or band), 1 an external
    check (card, mobile operator, an app's own check), 2 a document check, 3 the EU age-verification
    attestation. Unknown names count as 0."""
    return max(ASSURANCE_RANK.get(assurance or "", 0), METHOD_FLOOR.get(method or "", 0))


def band_range(label: str) -> tuple[int, int | None]:
    """Return the ages a band label admits as ``(lowest, highest or None)``: ``18+`` -> (18, None),
    ``16-17`` -> (16, 17), ``under-16`` -> (0, 15). A label of another shape admits any age (0, None)."""
    if match := _AT_LEAST.fullmatch(label):
        return int(match.group(1)), None
    if match := _BETWEEN.fullmatch(label):
        return int(match.group(1)), int(match.group(2))
    if match := _UNDER.fullmatch(label):
        return 0, max(int(match.group(1)) - 1, 0)
    return 0, None


@dataclass(frozen=True, slots=True)
class Declared:
    """A band declared earlier by the subject, with the strength of its method."""

    band: str
    strength: int
    of_age_on: _dt.date | None = None
    """The day by which that declaration itself says the person is of age (``reconfirm_due``), if any."""


def contradicts(previous: Declared | None, band: str, new_strength: int, today: _dt.date) -> bool:
    """Return whether declaring ``band`` now (with a method of ``new_strength``) raises ``previous``.

    True when the new band starts above the highest age the earlier band admitted, the new method is
    not stronger than the earlier one, and the earlier declaration does not itself put the person of
    age by ``today``. A lower or overlapping band never contradicts.
    """
    if previous is None or new_strength > previous.strength:
        return False
    if previous.of_age_on is not None and today >= previous.of_age_on:
        return False
    highest = band_range(previous.band)[1]
    return highest is not None and band_range(band)[0] > highest


class RecentRefusals:
    """Per-process memory of ``subject -> band refused as too young``, bounded and expiring (default a day).

    Refusals below the minimum age leave nothing in the ledger; this keeps the same subject from
    passing with an older date right after, as long as the same process answers. Not shared between
    processes or kept across restarts: the durable rule is the recorded band.
    """

    def __init__(self, ttl: float = 24 * 3600, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[Declared, float]] = OrderedDict()

    def note(self, subject: str, declared: Declared) -> None:
        self._entries[subject] = (declared, self._clock() + self.ttl)
        self._entries.move_to_end(subject)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def get(self, subject: str) -> Declared | None:
        """Return the band refused for ``subject`` within the last ``ttl`` seconds, else None."""
        entry = self._entries.get(subject)
        if entry is None:
            return None
        if entry[1] <= self._clock():
            del self._entries[subject]
            return None
        return entry[0]
