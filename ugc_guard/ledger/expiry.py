"""What retention and erasure need from the ledger: submissions that may fall due (with their
upload and last-use times), subjects' last activity, and batched end-of-life entries.

Each batch of expiries is one append: per submission a ``retention_action`` (``deleted``) and a
``submission_status`` (``expired``), so a run that is interrupted leaves whole batches done or not
done, and a re-run skips what is already ``expired``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from .chain import Draft, Stored
from .core import LedgerCore
from .models import Entry, SubjectStatusRow, SubmissionStatusRow
from .rawsql import Raw
from .receipts import Receipt, receipt_for

__all__ = ["ENDED", "LIVE", "Candidate", "SubjectActivity", "count_candidates", "record_ends", "retention_candidates",
           "subject_activity"]

ENDED = ("expired", "erased")
"""A submission in one of these statuses has no file any more; retention skips it."""
LIVE = ("received", "stored", "not stored", "not stored (unconfirmed)", "withdrawn", "accepted")
"""The statuses retention walks, one at a time: each walk is a seek on the (campaign, status,
submission_id) index with the limit pushed down, so a run is linear in the submissions it visits."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A submission that still has a file, with what its retention deadline depends on."""

    submission_id: int
    subject: str | None
    status: str
    uploaded_at: dt.datetime
    content_sha256: str | None
    canonical_sha256: str | None
    used: bool
    last_used_at: dt.datetime | None


def count_candidates(connection: Connection, campaign: str) -> int:
    """Return how many of the campaign's submissions still have a file."""
    return int(connection.execute(
        select(func.count()).select_from(SubmissionStatusRow)
        .where(SubmissionStatusRow.campaign == campaign, SubmissionStatusRow.status.not_in(ENDED))
    ).scalar_one())


def retention_candidates(connection: Connection, campaign: str, status: str, *, after: int | None, limit: int) -> list[Candidate]:
    """Return the next ``limit`` submissions whose current status is ``status`` (by id, after ``after``)."""
    statement = (
        select(SubmissionStatusRow.submission_id, SubmissionStatusRow.subject, SubmissionStatusRow.status,
               Entry.recorded_at, Entry.content_sha256, Entry.body)
        .join(Entry, Entry.id == SubmissionStatusRow.submission_id)
        .where(SubmissionStatusRow.campaign == campaign, SubmissionStatusRow.status == status)
        .order_by(SubmissionStatusRow.submission_id).limit(limit)
    )
    if after is not None:
        statement = statement.where(SubmissionStatusRow.submission_id > after)
    rows = connection.execute(statement).all()
    uses: dict[int, dt.datetime] = {}
    if rows:
        marked = connection.execute(
            select(Entry.ref, Entry.body).where(Entry.ref.in_([row[0] for row in rows]), Entry.kind == "mark_used")
        )
        for ref, body in marked:
            if ref is None:
                continue
            used_on = dt.date.fromisoformat(json.loads(body)["used_on"])
            moment = dt.datetime.combine(used_on, dt.time.max, tzinfo=dt.UTC)
            uses[ref] = max(moment, uses.get(ref, moment))
    return [
        Candidate(sid, subject, status, uploaded, content, json.loads(body).get("canonical_sha256"), sid in uses,
                  uses.get(sid))
        for sid, subject, status, uploaded, content, body in rows
    ]


@dataclass(frozen=True, slots=True)
class SubjectActivity:
    """A subject whose personal data is still readable, with their last acceptance or upload."""

    subject: str
    last_active_at: dt.datetime
    last_used_at: dt.datetime | None


def subject_activity(connection: Connection, campaign: str) -> list[SubjectActivity]:
    """Return every not-yet-erased subject of the campaign with the time of their latest acceptance or
    submission and of the latest production use of one of their submissions."""
    active = select(SubjectStatusRow.subject).where(SubjectStatusRow.campaign == campaign, SubjectStatusRow.erased.is_(False))
    latest = dict(connection.execute(
        select(Entry.subject, func.max(Entry.recorded_at))
        .where(Entry.campaign == campaign, Entry.kind.in_(("terms_acceptance", "submission")), Entry.subject.in_(active))
        .group_by(Entry.subject)
    ).all())
    used: dict[str, dt.datetime] = {}
    for subject, body in connection.execute(
        select(Entry.subject, Entry.body).where(Entry.campaign == campaign, Entry.kind == "mark_used")
    ):
        moment = dt.datetime.combine(dt.date.fromisoformat(json.loads(body)["used_on"]), dt.time.max, tzinfo=dt.UTC)
        if subject is not None:
            used[subject] = max(moment, used.get(subject, moment))
    return [SubjectActivity(subject, at, used.get(subject)) for subject, at in sorted(latest.items()) if subject]


def record_ends(
    core: LedgerCore, campaign: str, items: Sequence[tuple[int, str | None]], *, status: str, action: str | None,
    rule: str | None = None, period: str | None = None, anchor: str | None = None, reason: str | None = None,
) -> list[Stored]:
    """Append, in one transaction, the end of each ``(submission_id, subject)``: a ``retention_action``
    (when ``action`` is given) and a ``submission_status`` entry with ``status`` (``expired``,
    ``erased``), and set their current status. Returns the stored entries (none for no items)."""
    if not items:
        return []
    drafts: list[Draft] = []
    why = reason or f"retention {rule or ''} {period or ''}".strip()
    for submission_id, subject in items:
        if action is not None:
            drafts.append(Draft("retention_action", subject, {"action": action, "target_entry": submission_id,
                                                              "rule": rule, "period": period, "anchor": anchor},
                                ref=submission_id))
        drafts.append(Draft("submission_status", subject, {"submission_entry": submission_id, "status": status,
                                                           "reason": why}, ref=submission_id, status=status))
    ids = [submission_id for submission_id, _ in items]

    def after(connection: Connection, stored: list[Stored]) -> None:
        raw = Raw(connection)
        marks = ", ".join("?" for _ in ids)
        raw.execute(f"UPDATE ledger_submission_status SET status = ?, updated_at = ? WHERE submission_id IN ({marks})",
                    (status, raw.time(stored[0].recorded_at), *ids))

    return core.append(campaign, drafts, after)


def receipt_of(stored: list[Stored]) -> Receipt | None:
    """Return the receipt of a batch (None when nothing was appended)."""
    return receipt_for(stored) if stored else None
