"""Retention entries: a retention action (``deleted`` expires its submission) and a submission's use
in a production (the anchor of "last use" retention periods)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Connection

from .chain import Draft, Stored
from .core import LedgerCore
from .receipts import Receipt, receipt_for
from .status import set_submission_status
from .submissions import submission_row

__all__ = ["mark_used", "record_retention_action"]


def record_retention_action(
    core: LedgerCore, campaign: str, action: str, *, target_entry: int | None = None, rule: str | None = None,
    period: str | None = None, anchor: str | None = None, subject: str | None = None,
) -> Receipt:
    """Append a retention action (e.g. ``deleted`` for an expired submission, which then gets the
    status ``expired``); returns the receipt."""
    payload: dict[str, Any] = {"action": action, "target_entry": target_entry, "rule": rule, "period": period,
                               "anchor": anchor}
    drafts = [Draft("retention_action", subject, payload, ref=target_entry)]
    expire = action == "deleted" and target_entry is not None
    if expire:
        drafts.append(Draft("submission_status", subject, {"submission_entry": target_entry, "status": "expired",
                                                           "reason": f"retention {rule or ''} {period or ''}".strip()},
                            ref=target_entry, status="expired"))

    def after(connection: Connection, stored: list[Stored]) -> None:
        if expire and target_entry is not None:
            set_submission_status(connection, target_entry, campaign, subject, "expired", stored[-1].recorded_at)

    return receipt_for(core.append(campaign, drafts, after))


def mark_used(core: LedgerCore, submission_id: int, *, production: str | None = None, used_on: dt.date | None = None) -> Receipt:
    """Append that a submission was used in a production (anchor for 'last use' retention)."""
    with core.connect() as connection:
        row = submission_row(connection, submission_id)
    payload = {"submission_entry": submission_id, "production": production,
               "used_on": (used_on or dt.datetime.now(dt.UTC).date()).isoformat()}
    return receipt_for(core.append(row.campaign, [Draft("mark_used", row.subject, payload, ref=submission_id)]))
