"""``AsyncLedger``: the same API for the middleware, each call run in a worker thread
(``anyio.to_thread.run_sync``) so no database call blocks the event loop."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread

from . import guardians, submissions
from .inputs import AgeResult, ClientInfo, LicenceGrant, LicenceShown, PortraitGrant, SubmissionFacts, TermsShown
from .ledger import Ledger
from .queries import Page
from .receipts import Receipt, ReceiptCheck
from .status import SubjectStatus
from .verify import Verification
from .views import EntryView

__all__ = ["AsyncLedger"]

P = ParamSpec("P")
T = TypeVar("T")


class AsyncLedger:
    """Async facade over :class:`Ledger`; build it from a ``Ledger`` or with the same arguments.

    Every method has the signature, result and exceptions of the :class:`Ledger` method of the same
    name. ``limiter`` caps the worker threads used for ledger calls (anyio's default limiter otherwise).
    """

    def __init__(self, ledger: Ledger | str, *, limiter: anyio.CapacityLimiter | None = None, **options: Any) -> None:
        self.sync = ledger if isinstance(ledger, Ledger) else Ledger(ledger, **options)
        self._limiter = limiter

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=self._limiter)

    async def upgrade(self) -> str | None:
        return await self._run(self.sync.upgrade)

    async def record_acceptance(self, campaign: str, subject: str, terms: TermsShown, age: AgeResult | None = None, *,
                                collection_method: str, policy_digest: str, capacity: str = "self",
                                licence: LicenceShown | None = None, guardian_entries: Sequence[int] = (),
                                client: ClientInfo | None = None) -> Receipt:
        return await self._run(self.sync.record_acceptance, campaign, subject, terms, age,
                               collection_method=collection_method, policy_digest=policy_digest, capacity=capacity,
                               licence=licence, guardian_entries=guardian_entries, client=client)

    async def record_age_result(self, campaign: str, subject: str, age: AgeResult) -> Receipt:
        return await self._run(self.sync.record_age_result, campaign, subject, age)

    async def record_guardian_request(self, campaign: str, subject: str, *, acceptance_id: int, token_sha256: str,
                                      expires_at: dt.datetime, guardian_email: str, guardian_index: int = 1,
                                      language: str | None = None, client: ClientInfo | None = None,
                                      checks: Mapping[str, Any] | None = None) -> int:
        return await self._run(self.sync.record_guardian_request, campaign, subject, acceptance_id=acceptance_id,
                               token_sha256=token_sha256, expires_at=expires_at, guardian_email=guardian_email,
                               guardian_index=guardian_index, language=language, client=client, checks=checks)

    async def find_guardian_request(self, campaign: str, token_sha256: str) -> guardians.GuardianRequest | None:
        return await self._run(self.sync.find_guardian_request, campaign, token_sha256)

    async def record_guardian_confirmation(self, campaign: str, request_id: int, *, guardian_name: str,
                                           relationship: str, terms: TermsShown, licence: LicenceShown,
                                           policy_digest: str, client: ClientInfo | None = None,
                                           checks: Mapping[str, Any] | None = None) -> Receipt:
        return await self._run(self.sync.record_guardian_confirmation, campaign, request_id,
                               guardian_name=guardian_name, relationship=relationship, terms=terms, licence=licence,
                               policy_digest=policy_digest, client=client, checks=checks)

    async def record_guardian_withdrawal(self, campaign: str, request_id: int, *, reason: str | None = None,
                                         client: ClientInfo | None = None) -> Receipt:
        return await self._run(self.sync.record_guardian_withdrawal, campaign, request_id, reason=reason, client=client)

    async def subject_status(self, campaign: str, subject: str) -> SubjectStatus:
        return await self._run(self.sync.subject_status, campaign, subject)

    async def due_reconfirmations(self, campaign: str, on: dt.date) -> list[SubjectStatus]:
        return await self._run(self.sync.due_reconfirmations, campaign, on)

    async def record_submission(self, campaign: str, subject: str, facts: SubmissionFacts, licence: LicenceGrant,
                                portrait: PortraitGrant, *, acceptance_id: int | None,
                                client: ClientInfo | None = None) -> submissions.SubmissionReceipt:
        return await self._run(self.sync.record_submission, campaign, subject, facts, licence, portrait,
                               acceptance_id=acceptance_id, client=client)

    async def record_submission_status(self, submission_id: int, status: str, reason: str | None = None) -> Receipt:
        return await self._run(self.sync.record_submission_status, submission_id, status, reason)

    async def settle_submissions(self, campaign: str, targets: Mapping[int, tuple[str | None, str]], status: str, *,
                                 only_from: Collection[str] = ("received",)) -> list[int]:
        return await self._run(self.sync.settle_submissions, campaign, targets, status, only_from=only_from)

    async def sweep_unconfirmed(self, campaign: str, *, older_than: dt.timedelta) -> list[int]:
        return await self._run(self.sync.sweep_unconfirmed, campaign, older_than=older_than)

    async def record_withdrawal(self, campaign: str, subject: str, scope: str, *, target_entry: int | None = None,
                                reason: str | None = None, client: ClientInfo | None = None) -> Receipt:
        return await self._run(self.sync.record_withdrawal, campaign, subject, scope, target_entry=target_entry,
                               reason=reason, client=client)

    async def erase_subject(self, campaign: str, subject: str, *, reason: str, requested_by: str = "subject") -> Receipt:
        return await self._run(self.sync.erase_subject, campaign, subject, reason=reason, requested_by=requested_by)

    async def withdraw_consent(self, campaign: str, subject: str, scope: str, submission_ids: Sequence[int], *,
                               reason: str | None = None, client: ClientInfo | None = None) -> Receipt:
        return await self._run(self.sync.withdraw_consent, campaign, subject, scope, submission_ids, reason=reason,
                               client=client)

    async def subject_submissions(self, campaign: str, subject: str) -> dict[int, dict[str, Any]]:
        return await self._run(self.sync.subject_submissions, campaign, subject)

    async def takedowns(self, *, campaign: str | None = None, after: int | None = None,
                        limit: int = 1000) -> list[dict[str, Any]]:
        return await self._run(self.sync.takedowns, campaign=campaign, after=after, limit=limit)

    async def mark_used(self, submission_id: int, *, production: str | None = None,
                        used_on: dt.date | None = None) -> Receipt:
        return await self._run(self.sync.mark_used, submission_id, production=production, used_on=used_on)

    async def history(self, subject: str, *, campaign: str | None = None, after: int | None = None,
                      limit: int = 1000) -> Page:
        return await self._run(self.sync.history, subject, campaign=campaign, after=after, limit=limit)

    async def grants(self, submission_id: int) -> list[EntryView]:
        return await self._run(self.sync.grants, submission_id)

    async def by_content(self, content_sha256: str) -> list[dict[str, Any]]:
        return await self._run(self.sync.by_content, content_sha256)

    async def verify(self, campaign: str | None = None) -> Verification:
        return await self._run(self.sync.verify, campaign)

    async def verify_receipt(self, receipt: Receipt | dict[str, Any] | str) -> ReceiptCheck:
        return await self._run(self.sync.verify_receipt, receipt)

    async def aclose(self) -> None:
        await self._run(self.sync.close)
