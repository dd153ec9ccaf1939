"""Entries for privacy rights and retention: withdrawals, erasure (destroying the subject key),
retention actions and marking a submission used. The rights/retention module builds on these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Connection

from .chain import Draft, Stored
from .core import LedgerCore
from .inputs import ClientInfo
from .models import SubjectKey
from .receipts import Receipt, receipt_for
from .status import set_submission_status, upsert_subject
from .submissions import submission_row

__all__ = ["erase_subject", "mark_used", "record_retention_action", "record_withdrawal"]


def record_withdrawal(
    core: LedgerCore, campaign: str, subject: str, scope: str, *, target_entry: int | None = None,
    reason: str | None = None, client: ClientInfo | None = None,
) -> Receipt:
    """Append the subject's withdrawal of a consent (``scope`` e.g. ``portrait``, ``terms``,
    ``submission``); a withdrawn submission also gets the status ``withdrawn``. Returns the receipt."""
    drafts = [Draft("withdrawal", subject, {"scope": scope, "target_entry": target_entry, "reason": reason},
                    core.evidence(client), ref=target_entry)]
    if scope == "submission" and target_entry is not None:
        drafts.append(Draft("submission_status", subject, {"submission_entry": target_entry, "status": "withdrawn",
                                                           "reason": reason}, ref=target_entry, status="withdrawn"))

    def after(connection: Connection, stored: list[Stored]) -> None:
        if len(stored) > 1 and target_entry is not None:
            set_submission_status(connection, target_entry, campaign, subject, "withdrawn", stored[1].recorded_at)

    return receipt_for(core.append(campaign, drafts, after))


def erase_subject(core: LedgerCore, campaign: str, subject: str, *, reason: str, requested_by: str = "subject") -> Receipt:
    """Erase the subject's personal data: append an ``erasure`` entry and destroy their key in the same
    transaction. The chain still verifies; their entries then read ``[erased]`` where personal data
    was. On SQLite the write-ahead log is checkpointed so the old key page is overwritten on disk."""

    def after(connection: Connection, stored: list[Stored]) -> None:
        now = stored[0].recorded_at
        connection.execute(
            update(SubjectKey).where(SubjectKey.campaign == campaign, SubjectKey.subject == subject)
            .values(wrapped_key=None, erased_at=now)
        )
        upsert_subject(connection, campaign, subject, now, erased=True)

    stored = core.append(campaign, [Draft("erasure", subject, {"reason": reason, "requested_by": requested_by})], after)
    if core.engine.dialect.name == "sqlite":
        with core.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return receipt_for(stored)


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
