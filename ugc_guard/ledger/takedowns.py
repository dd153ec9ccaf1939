"""Withdrawing portrait consent or consent to processing, and the takedown list it feeds.

A withdrawal appends, per submission, a ``withdrawal`` entry (scope ``portrait`` or
``processing``) and a ``submission_status`` entry ``withdrawn``, all in one transaction. The
licence grant is not touched: it stays recorded as irrevocable (domain notes §2). The takedown list
is every submission whose current status is ``withdrawn``: content the app must stop showing.
Withdrawing consent to processing also clears the subject's acceptance in the gate's status index,
so a new upload needs a new acceptance; the evidence of the old one stays in the chain.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .chain import Draft, Stored
from .core import LedgerCore
from .inputs import ClientInfo
from .models import Entry, SubmissionStatusRow
from .rawsql import Raw
from .receipts import Receipt, receipt_for

__all__ = ["WITHDRAWAL_SCOPES", "record_consent_withdrawal", "subject_submissions", "takedowns"]

WITHDRAWAL_SCOPES = ("portrait", "processing")
GONE = ("withdrawn", "expired", "erased")
"""Statuses from which a submission cannot be withdrawn again."""


def record_consent_withdrawal(
    core: LedgerCore, campaign: str, subject: str, scope: str, submission_ids: Sequence[int], *,
    reason: str | None = None, client: ClientInfo | None = None,
) -> Receipt:
    """Append the withdrawal of ``scope`` consent for ``submission_ids`` (the caller checked they are the
    subject's and not gone); with no ids, one withdrawal entry without a target. Returns the receipt of
    the first entry (``related`` holds the rest). Raises ``ValueError`` for an unknown scope."""
    if scope not in WITHDRAWAL_SCOPES:
        raise ValueError(f"scope must be one of {', '.join(WITHDRAWAL_SCOPES)}, not {scope!r}")
    evidence = core.evidence(client)
    drafts: list[Draft] = []
    for submission_id in submission_ids:
        drafts.append(Draft("withdrawal", subject, {"scope": scope, "target_entry": submission_id, "reason": reason},
                            evidence, ref=submission_id))
        drafts.append(Draft("submission_status", subject, {
            "submission_entry": submission_id, "status": "withdrawn", "reason": f"{scope} consent withdrawn"},
            ref=submission_id, status="withdrawn"))
    if not drafts:
        drafts.append(Draft("withdrawal", subject, {"scope": scope, "target_entry": None, "reason": reason}, evidence))
    ids = list(submission_ids)

    def after(connection: Connection, stored: list[Stored]) -> None:
        raw = Raw(connection)
        now = raw.time(stored[0].recorded_at)
        if ids:
            marks = ", ".join("?" for _ in ids)
            raw.execute(f"UPDATE ledger_submission_status SET status = 'withdrawn', updated_at = ? "
                        f"WHERE submission_id IN ({marks})", (now, *ids))
        if scope == "processing":
            raw.execute("UPDATE ledger_subject_status SET terms_version = NULL, acceptance_id = NULL, updated_at = ? "
                        "WHERE campaign = ? AND subject = ?", (now, campaign, subject))

    return receipt_for(core.append(campaign, drafts, after))


def subject_submissions(connection: Connection, campaign: str, subject: str) -> dict[int, dict[str, Any]]:
    """Return the subject's submissions in ``campaign``: id -> current status and content hashes."""
    rows = connection.execute(
        select(SubmissionStatusRow.submission_id, SubmissionStatusRow.status, Entry.content_sha256, Entry.body)
        .join(Entry, Entry.id == SubmissionStatusRow.submission_id)
        .where(SubmissionStatusRow.campaign == campaign, SubmissionStatusRow.subject == subject)
        .order_by(SubmissionStatusRow.submission_id)
    )
    return {sid: {"submission_id": sid, "status": status, "content_sha256": content,
                  "canonical_sha256": json.loads(body).get("canonical_sha256")}
            for sid, status, content, body in rows}


def takedowns(connection: Connection, *, campaign: str | None = None, after: int | None = None,
              limit: int = 1000) -> list[dict[str, Any]]:
    """Return a page of the takedown list (submissions whose current status is ``withdrawn``), by
    submission id: id, campaign, subject, content hashes, when and why it was withdrawn."""
    statement = (
        select(SubmissionStatusRow.submission_id, SubmissionStatusRow.campaign, SubmissionStatusRow.subject,
               SubmissionStatusRow.updated_at, Entry.content_sha256, Entry.body)
        .join(Entry, Entry.id == SubmissionStatusRow.submission_id)
        .where(SubmissionStatusRow.status == "withdrawn")
        .order_by(SubmissionStatusRow.submission_id).limit(limit)
    )
    if campaign is not None:
        statement = statement.where(SubmissionStatusRow.campaign == campaign)
    if after is not None:
        statement = statement.where(SubmissionStatusRow.submission_id > after)
    rows = connection.execute(statement).all()
    scopes: dict[int, dict[str, Any]] = {}
    if rows:
        withdrawals = connection.execute(
            select(Entry.ref, Entry.body).where(Entry.kind == "withdrawal", Entry.ref.in_([row[0] for row in rows]))
            .order_by(Entry.id)
        )
        for ref, body in withdrawals:
            if ref is not None:
                scopes[ref] = json.loads(body)
    listed = []
    for submission_id, name, subject, withdrawn_at, content, body in rows:
        payload = json.loads(body)
        withdrawal = scopes.get(submission_id, {})
        listed.append({
            "submission_id": submission_id, "campaign": name, "subject": subject, "content_sha256": content,
            "canonical_sha256": payload.get("canonical_sha256"), "withdrawn_at": _iso(withdrawn_at),
            "scope": withdrawal.get("scope"), "reason": withdrawal.get("reason"),
        })
    return listed


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
