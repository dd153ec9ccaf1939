"""Operator-side rights work on one subject: find them, export everything, erase them.

Synchronous, over :class:`~ugc_guard.ledger.Ledger` (the CLI calls these; the middleware runs
:func:`export_subject` in a worker thread). A pseudonym belongs to one campaign; when a subject id
is given without a campaign, the campaign is found from their entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..ledger import Ledger, LedgerError, Receipt
from .export import build_export
from .withdraw import deletion_event, file_refs

__all__ = ["Erasure", "UnknownSubject", "erase_subject", "export_subject", "find_subjects", "subject_campaign"]

Deliver = Callable[[dict[str, Any]], None]


class UnknownSubject(LedgerError):
    """No entry is recorded under this pseudonym (in this campaign)."""


def subject_campaign(ledger: Ledger, subject: str, campaign: str | None = None) -> str:
    """Return the campaign of ``subject`` (checking ``campaign`` when given).

    Raises :class:`UnknownSubject`, or :class:`LedgerError` when the pseudonym is in several campaigns.
    """
    campaigns = ledger.subject_campaigns(subject)
    if campaign is not None:
        if campaign not in campaigns:
            raise UnknownSubject(f"no subject {subject!r} in campaign {campaign!r}")
        return campaign
    if not campaigns:
        raise UnknownSubject(f"no subject {subject!r} in this ledger")
    if len(campaigns) > 1:
        raise LedgerError(f"subject {subject!r} is in campaigns {', '.join(campaigns)}; name one with --campaign")
    return campaigns[0]


def export_subject(ledger: Ledger, campaign: str, subject: str, *, controller: Mapping[str, Any] | None = None,
                   portrait_withdrawable: bool = True) -> dict[str, Any]:
    """Return the subject's export document (see :func:`ugc_guard.pages.export.build_export`)."""
    entries: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page = ledger.history(subject, campaign=campaign, after=after, limit=10_000)
        entries.extend(view.as_dict() for view in page.items)
        if page.next is None:
            break
        after = page.next
    erased = ledger.subject_status(campaign, subject).erased
    return build_export(campaign, subject, entries, erased=erased, controller=controller,
                        portrait_withdrawable=portrait_withdrawable)


def find_subjects(ledger: Ledger, *, email: str | None = None, content_sha256: str | None = None,
                  receipt: Receipt | None = None, campaign: str | None = None) -> list[dict[str, Any]]:
    """Return the subjects matching a guardian's e-mail, a file's SHA-256 or a receipt, one row each:
    campaign, subject, matched_by, entry_id (the matching entry)."""
    found: list[dict[str, Any]] = []
    if email is not None:
        for view in ledger.find_by_guardian_email(email, campaign=campaign):
            found.append({"campaign": view.campaign, "subject": view.subject, "matched_by": "guardian_email",
                          "entry_id": view.id})
    if content_sha256 is not None:
        for item in ledger.by_content(content_sha256.strip().lower()):
            view = item["submission"]
            if campaign is None or view.campaign == campaign:
                found.append({"campaign": view.campaign, "subject": view.subject, "matched_by": "content_sha256",
                              "entry_id": view.id})
    if receipt is not None:
        named = ledger.entry(receipt.entry_id)
        if named is not None and named.campaign == receipt.campaign and named.hash == receipt.hash:
            found.append({"campaign": named.campaign, "subject": named.subject, "matched_by": "receipt", "entry_id": named.id})
    unique: dict[tuple[str, str | None], dict[str, Any]] = {}
    for row in found:
        unique.setdefault((row["campaign"], row["subject"]), row)
    return list(unique.values())


@dataclass
class Erasure:
    """What an erasure did: the files handed to the deletion hook and the erasure receipt."""

    campaign: str
    subject: str
    files: list[dict[str, Any]] = field(default_factory=list)
    receipt: Receipt | None = None
    already_erased: bool = False
    hook_called: bool = False


def erase_subject(ledger: Ledger, campaign: str, subject: str, *, reason: str, requested_by: str = "operator",
                  deliver: Deliver | None = None) -> Erasure:
    """Erase a subject (GDPR Art. 17): hand their remaining files to ``deliver`` (the content-deletion
    hook), mark those submissions ``erased``, then destroy their key. The chain still verifies.

    The hook runs first: when it raises (``HookFailed``), nothing is recorded and a re-run tries again.
    An already erased subject only gets the deletion of files still listed. Raises :class:`UnknownSubject`.
    """
    subject_campaign(ledger, subject, campaign)
    own = ledger.subject_submissions(campaign, subject)
    remaining = [sid for sid, item in own.items() if item["status"] not in ("expired", "erased")]
    result = Erasure(campaign, subject, file_refs(own, remaining))
    if remaining and deliver is not None:
        deliver(deletion_event(campaign, "erasure", result.files))
        result.hook_called = True
    ledger.record_submission_ends(campaign, [(sid, subject) for sid in remaining], status="erased", action=None,
                                  reason=f"erasure: {reason}")
    if ledger.subject_status(campaign, subject).erased:
        result.already_erased = True
        return result
    result.receipt = ledger.erase_subject(campaign, subject, reason=reason, requested_by=requested_by)
    return result
