"""Age rules: a birth date or a declared band becomes an age band and an outcome.

Plain functions over plain data. The birth date is used to compute the band and is then dropped:
only the band, method and assurance are recorded (domain notes §1, "store the result"). A minor may
take part only where the policy sets ``guardian_minimum`` and a guardian confirms; never below it.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "AgeError",
    "AgeJudgement",
    "AgeOutcome",
    "AgeRule",
    "age_on",
    "band_labels",
    "judge_band",
    "judge_birth_date",
    "parse_birth_date",
    "reconfirm_due",
]

OLDEST = 120
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)  # ASCII digits only: no other numeral systems


class AgeOutcome(StrEnum):
    alone = "alone"
    """Old enough to accept alone."""
    with_guardian = "with-guardian"
    """In the guardian band: needs confirmed guardian consent."""
    refused = "refused"
    """Below the lowest allowed age."""


class AgeError(ValueError):
    """Unusable age input; ``reason`` is a stable slug (``birth-date-format``, ``birth-date-impossible``…)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AgeRule:
    minimum: int
    """Age from which a person may take part alone."""
    guardian_minimum: int | None
    """Lowest age allowed with guardian consent; None: no minors at all."""


@dataclass(frozen=True, slots=True)
class AgeJudgement:
    band: str
    outcome: AgeOutcome
    years_to_majority: int
    """Whole years until ``minimum`` at the latest (0 for adults): the re-confirmation horizon."""


def band_labels(rule: AgeRule) -> list[str]:
    """Return the band labels a person can declare, oldest first: ``18+``, ``16-17``, ``under-16``."""
    labels = [f"{rule.minimum}+"]
    if rule.guardian_minimum is not None:
        labels.append(f"{rule.guardian_minimum}-{rule.minimum - 1}")
    labels.append(f"under-{rule.guardian_minimum if rule.guardian_minimum is not None else rule.minimum}")
    return labels


def parse_birth_date(text: str, today: _dt.date) -> _dt.date:
    """Return the birth date in ``YYYY-MM-DD`` text.

    Raises :class:`AgeError` for another format (``birth-date-format``), a day that does not exist
    such as 2026-02-30 (``birth-date-impossible``), a date after ``today`` (``birth-date-future``) or
    more than 120 years ago (``birth-date-implausible``).
    """
    match = _DATE_RE.fullmatch(text.strip())
    if match is None:
        raise AgeError("birth-date-format", "the birth date must be written as YYYY-MM-DD, e.g. 2001-04-23")
    try:
        birth = _dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise AgeError("birth-date-impossible", f"{text.strip()} is not a day that exists") from None
    if birth > today:
        raise AgeError("birth-date-future", "the birth date lies in the future")
    if age_on(birth, today) > OLDEST:
        raise AgeError("birth-date-implausible", f"a birth date more than {OLDEST} years ago is not plausible")
    return birth


def age_on(birth: _dt.date, today: _dt.date) -> int:
    """Return the age in whole years on ``today`` (a 29 February birthday counts from 1 March)."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def judge_birth_date(birth: _dt.date, today: _dt.date, rule: AgeRule) -> AgeJudgement:
    """Return the band and outcome for a birth date under ``rule``."""
    return _judge_age(age_on(birth, today), rule)


def judge_band(band: str, rule: AgeRule) -> AgeJudgement:
    """Return the outcome for a self-declared band label; raises :class:`AgeError` (``age-band-unknown``)."""
    labels = band_labels(rule)
    if band not in labels:
        raise AgeError("age-band-unknown", f"age_band must be one of {', '.join(labels)}")
    if band == labels[0]:
        return AgeJudgement(band, AgeOutcome.alone, 0)
    if band == labels[-1]:
        return AgeJudgement(band, AgeOutcome.refused, 0)
    lowest = rule.guardian_minimum if rule.guardian_minimum is not None else rule.minimum
    return AgeJudgement(band, AgeOutcome.with_guardian, rule.minimum - lowest)


def _judge_age(age: int, rule: AgeRule) -> AgeJudgement:
    labels = band_labels(rule)
    if age >= rule.minimum:
        return AgeJudgement(labels[0], AgeOutcome.alone, 0)
    if rule.guardian_minimum is not None and age >= rule.guardian_minimum:
        return AgeJudgement(labels[1], AgeOutcome.with_guardian, rule.minimum - age)
    return AgeJudgement(labels[-1], AgeOutcome.refused, 0)


def reconfirm_due(accepted_on: _dt.date, result: AgeJudgement) -> _dt.date | None:
    """Return the day by which a minor has certainly come of age, or None for adults.

    It is the acceptance day plus the whole years to majority: never before the real birthday and
    at most a year after it, and it reveals no more than the age in years (never the birth date).
    """
    if result.outcome is not AgeOutcome.with_guardian:
        return None
    try:
        return accepted_on.replace(year=accepted_on.year + result.years_to_majority)
    except ValueError:  # 29 February
        return accepted_on.replace(year=accepted_on.year + result.years_to_majority, day=28)
