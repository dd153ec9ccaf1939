"""What upload screening records: a submission with its licence and portrait grants (one
transaction, consecutive positions), and later status changes as new entries.

A submission is recorded ``received`` (its grants are real: they were made) before the app sees the
upload, and :func:`settle_submissions` appends ``stored`` once the app answered 2xx, or ``not
stored``; what nobody settled is swept to ``not stored (unconfirmed)`` (:mod:`.unconfirmed`). A status
change is always a new ``submission_status`` entry; no entry is ever updated.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .chain import Draft, Stored
from .core import LedgerCore
from .drafting import DerivedRows
from .errors import EntryNotFound, LedgerError
from .inputs import SUBMISSION_STATUSES, ClientInfo, LicenceGrant, PortraitGrant, SubmissionFacts
from .models import Entry
from .rawsql import Raw, Upsert
from .receipts import Receipt, receipt_for
from .status import submission_status_row, submission_statuses
from .workers import this_worker

__all__ = ["RECEIVED", "SubmissionReceipt", "record_submission", "record_submission_status", "settle_submissions",
           "submission_row"]

RECEIVED = "received"
"""Recorded with its grants; the app has not answered yet."""


@dataclass(frozen=True, slots=True)
class SubmissionReceipt:
    """The submission's entry id (for later status changes) and the receipt for the uploader."""

    submission_id: int
    receipt: Receipt


def record_submission(
    core: LedgerCore, campaign: str, subject: str, facts: SubmissionFacts, licence: LicenceGrant, portrait: PortraitGrant,
    *, acceptance_id: int | None, client: ClientInfo | None = None,
) -> SubmissionReceipt:
    """Append the submission (status ``received``, this worker process as its owner), its licence grant
    and its portrait grant atomically.

    Returns the submission id and a receipt covering all three entries. Raises
    :class:`LedgerUnavailable` when nothing could be recorded (the upload must then be refused).
    """
    grant_hash = facts.canonical_sha256 or facts.content_sha256
    submission = Draft("submission", subject, {
        "content_sha256": facts.content_sha256, "canonical_sha256": facts.canonical_sha256, "size": facts.size,
        "declared_type": facts.declared_type, "detected_type": facts.detected_type, "acceptance_entry": acceptance_id,
        "status": RECEIVED,
        **({"cleaning": facts.cleaning, "stripped": list(facts.stripped), "kept": list(facts.kept)} if facts.cleaning else {}),
    }, {**core.evidence(client), **({"original_name": facts.original_name} if facts.original_name else {})},
        ref=acceptance_id, content_sha256=facts.content_sha256, status=RECEIVED)
    licence_draft = Draft("licence_grant", subject, {
        "licence_id": licence.licence_id, "licence_version": licence.version,
        "text_sha256": licence.text_sha256, "rights": list(licence.rights), "territory": licence.territory,
        "exclusive": licence.exclusive, "royalty_free": licence.royalty_free, "sublicensable": licence.sublicensable,
        "irrevocable": licence.irrevocable, "warranties": list(licence.warranties), "capacity": licence.capacity,
    }, ref=-1, content_sha256=grant_hash)
    portrait_draft = Draft("portrait_grant", subject, {
        "own_consent": portrait.own_consent, "others_declaration": portrait.others_declaration,
        "withdrawable": portrait.withdrawable, "others": portrait.others,
    }, ref=-1, content_sha256=grant_hash)

    def status(stored: list[Stored]) -> list[Upsert]:
        return [submission_status_row(stored[0].id, campaign, subject, RECEIVED, stored[0].recorded_at, this_worker())]

    stored = core.append(campaign, [submission, licence_draft, portrait_draft], DerivedRows(status))
    return SubmissionReceipt(stored[0].id, receipt_for(stored))


def submission_row(connection: Connection, submission_id: int) -> Any:
    """Return the submission's (id, campaign, subject) row. Raises :class:`EntryNotFound`."""
    row = connection.execute(
        select(Entry.id, Entry.campaign, Entry.subject).where(Entry.id == submission_id, Entry.kind == "submission")
    ).one_or_none()
    if row is None:
        raise EntryNotFound(f"no submission with entry id {submission_id}")
    return row


def record_submission_status(core: LedgerCore, submission_id: int, status: str, reason: str | None = None) -> Receipt:
    """Append a status change of a submission (e.g. ``not stored`` when the app failed); return its receipt.

    Raises :class:`LedgerError` for an unknown status and :class:`EntryNotFound` for an unknown submission.
    """
    if status not in SUBMISSION_STATUSES:
        raise LedgerError(f"unknown submission status {status!r}; use one of {', '.join(SUBMISSION_STATUSES)}")
    with core.connect() as connection:
        row = submission_row(connection, submission_id)
    draft = Draft("submission_status", row.subject, {"submission_entry": submission_id, "status": status, "reason": reason},
                  ref=submission_id, status=status)

    def status_row(stored: list[Stored]) -> list[Upsert]:
        return [submission_status_row(submission_id, row.campaign, row.subject, status, stored[0].recorded_at)]

    return receipt_for(core.append(row.campaign, [draft], DerivedRows(status_row)))


class _Moved(Exception):
    """Raised under the chain lock: these submissions left the statuses a settlement may change."""

    def __init__(self, ids: list[int]) -> None:
        super().__init__(ids)
        self.ids = ids


def settle_submissions(
    core: LedgerCore, campaign: str, targets: Mapping[int, tuple[str | None, str]], status: str, *,
    only_from: Collection[str] = (RECEIVED,),
) -> list[int]:
    """Append ``status`` for each ``submission id -> (subject, reason)`` whose current status is still in
    ``only_from``, in one transaction; return the ids it was appended for.

    The current statuses are checked under the chain lock, so two workers settling the same submission,
    or a settlement racing a withdrawal, never append a status over one that was not in ``only_from``.
    Raises :class:`LedgerError` for an unknown status and :class:`LedgerUnavailable`.
    """
    if status not in SUBMISSION_STATUSES:
        raise LedgerError(f"unknown submission status {status!r}; use one of {', '.join(SUBMISSION_STATUSES)}")
    remaining = dict(targets)
    while remaining:
        try:
            return _settle_once(core, campaign, remaining, status, only_from)
        except _Moved as moved:
            for sid in moved.ids:
                del remaining[sid]
    return []


def _settle_once(core: LedgerCore, campaign: str, targets: Mapping[int, tuple[str | None, str]], status: str,
                 only_from: Collection[str]) -> list[int]:
    ids = sorted(targets)
    drafts = [Draft("submission_status", targets[sid][0], {"submission_entry": sid, "status": status,
                                                           "reason": targets[sid][1]}, ref=sid, status=status)
              for sid in ids]

    def guard(connection: Connection) -> None:
        current = submission_statuses(connection, ids)
        moved = [sid for sid in ids if current.get(sid) not in only_from]
        if moved:
            raise _Moved(moved)

    def after(connection: Connection, stored: list[Stored]) -> None:
        raw = Raw(connection)
        marks = ", ".join("?" for _ in ids)
        raw.execute(f"UPDATE ledger_submission_status SET status = ?, updated_at = ? WHERE submission_id IN ({marks})",
                    (status, raw.time(stored[0].recorded_at), *ids))

    core.append(campaign, drafts, after, guard)
    return ids
