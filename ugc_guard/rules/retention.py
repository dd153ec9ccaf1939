"""When a submission or a record falls due under the policy's retention rules (plain functions).

A rule is an ISO 8601 duration with an explicit anchor (domain notes §3): ``uploaded`` (the
submission's time), ``campaign_end`` (the policy's ``campaign.ends``, end of that day, UTC) or
``last_use`` (the last time the submission was marked used, else its upload). P3M and P90D are
different periods; months are calendar months.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..policy.models import Retention, RetentionRule
from ..policy.types import add_duration

__all__ = ["Deadline", "RetentionFacts", "due_at", "submission_due"]


@dataclass(frozen=True)
class RetentionFacts:
    uploaded_at: dt.datetime
    used: bool = False
    """Marked as used in a production (exempt from the unused-footage rule, seed 001)."""
    last_used_at: dt.datetime | None = None


@dataclass(frozen=True)
class Deadline:
    rule: str
    """Which retention rule: ``unused_submissions`` or ``submissions``."""
    at: dt.datetime


def due_at(rule: RetentionRule, *, uploaded_at: dt.datetime, campaign_end: dt.date | None, last_used_at: dt.datetime | None) -> dt.datetime | None:
    """Return when ``rule`` makes a record due, or None when its anchor is unknown (no campaign end yet)."""
    if rule.anchor == "uploaded":
        anchor = uploaded_at
    elif rule.anchor == "last_use":
        anchor = last_used_at or uploaded_at
    elif campaign_end is None:
        return None
    else:
        anchor = dt.datetime.combine(campaign_end, dt.time.max, tzinfo=dt.UTC)
    return add_duration(anchor, rule.period)


def submission_due(retention: Retention, facts: RetentionFacts, campaign_end: dt.date | None) -> Deadline | None:
    """Return the earliest retention deadline that applies to a submission, or None if none does."""
    candidates: list[Deadline] = []
    if retention.unused_submissions is not None and not facts.used:
        at = due_at(retention.unused_submissions, uploaded_at=facts.uploaded_at, campaign_end=campaign_end, last_used_at=facts.last_used_at)
        if at is not None:
            candidates.append(Deadline("unused_submissions", at))
    if retention.submissions is not None:
        at = due_at(retention.submissions, uploaded_at=facts.uploaded_at, campaign_end=campaign_end, last_used_at=facts.last_used_at)
        if at is not None:
            candidates.append(Deadline("submissions", at))
    return min(candidates, key=lambda due: due.at, default=None)
