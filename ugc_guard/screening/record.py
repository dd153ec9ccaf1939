"""Joins screening to the ledger: each screened file becomes a submission with its two grants.

The screening stage calls :meth:`SubmissionRecorder.record` before the app sees a byte; if it
raises, the upload is refused (fail closed). It re-checks what the gate decided, so a pipeline
without the gate can never record a grant nobody accepted terms for. A submission is recorded
``received``; :meth:`~SubmissionRecorder.confirm` makes it ``stored`` when the app answered 2xx
(before the client sees that answer), :meth:`~SubmissionRecorder.mark_not_stored` ``not stored``
for any other answer. What a killed worker or a stopped server left ``received`` is swept to
``not stored (unconfirmed)`` by the next recording worker (at its first upload, then every
:data:`SWEEP_EVERY` seconds) or the next retention run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..ledger import LedgerError, SubjectErased
from ..ledger.inputs import ClientInfo, LicenceGrant, PortraitGrant, SubmissionFacts
from ..ledger.unconfirmed import UNCONFIRMED, unconfirmed_after
from ..observe.events import emit, stored_files
from ..problems import Problem
from ..rules.age import band_labels
from ..rules.language import choose_language
from ..rules.standing import refusal_code
from .models import ScreenedFile, ScreenedUpload, Submission

if TYPE_CHECKING:
    from ..context import RequestContext
    from ..ledger.prooflog import AsyncProofLog
    from ..sites import Site
    from ..standing import Standings

__all__ = ["SWEEP_EVERY", "SubmissionRecorder"]

logger = logging.getLogger("ugc_guard")
SWEEP_EVERY = 10.0
"""Seconds between two sweeps for unconfirmed submissions by one worker (an index seek each)."""
PENDING = ("received", UNCONFIRMED)
"""Statuses the app's answer may still settle (a very slow app may answer after a sweep)."""


class SubmissionRecorder:
    """Records screened uploads of one site in its ledger, then what the app answered."""

    def __init__(self, site: Site, standings: Standings, proof_log: Callable[[], AsyncProofLog]) -> None:
        self.site = site
        self.standings = standings
        self.proof_log = proof_log
        """The site's signed log, made on first use (the pages' :attr:`~ugc_guard.pages.Gate.proof_log`)."""
        policy = site.policy
        self.grants_by_language = {language: LicenceGrant.from_policy(policy, language) for language in policy.licence.texts}
        self.portrait_withdrawable = policy.portrait.withdrawable
        self.adult_band = band_labels(standings.age_rule)[0]
        self.unconfirmed_after = unconfirmed_after(policy)
        self._swept_at: float | None = None

    async def record(self, ctx: RequestContext, screened: ScreenedUpload) -> Submission:
        """Append every file with its licence and portrait grants; return the submission for ``request.state.ugc``.

        Raises :class:`Problem`: the gate's refusal code when the subject may not upload (defence in
        depth), ``licence-not-granted``, or ``ledger-unavailable`` when the ledger cannot record.
        """
        status = ctx.standing
        acceptance_id = status.receipt_id if status is not None else None
        if ctx.subject is None or status is None or acceptance_id is None:
            raise Problem("terms-not-accepted", "no current acceptance was found for this upload")
        needs = self.standings.missing(status)
        if needs:
            raise Problem(refusal_code(needs) or "terms-not-accepted", "the subject may not upload yet")
        if not screened.grants.licence:
            raise Problem("licence-not-granted")
        policy = self.site.policy
        language = choose_language(None, ctx.header(b"accept-language"), policy.licence.texts, policy.terms.default_language)
        licence = self.grants_by_language[language]
        if status.age_band != self.adult_band:  # a minor: the confirmed guardian consent covers the licence
            licence = replace(licence, capacity="guardian")
        portrait = PortraitGrant(
            own_consent=screened.grants.portrait_self,
            others_declaration=screened.grants.portrait_others is not None,
            withdrawable=self.portrait_withdrawable,
            others=screened.grants.portrait_others,
        )
        client = ClientInfo(ctx.client, ctx.user_agent or None)
        await self._sweep()
        recorded: list[Any] = []
        try:
            for file in screened.files:
                recorded.append(
                    await self.site.ledger.record_submission(
                        self.site.campaign, ctx.subject, _facts(file), licence, portrait,
                        acceptance_id=int(acceptance_id), client=client,
                    )
                )
            # the uploader's proof: the first file's submission with its grants, in the signed log
            signed = await self.proof_log().issue_receipt(recorded[0].receipt)
        except Exception as error:
            # screening turns any failure here into 503 ledger-unavailable; files already recorded
            # for this refused upload must not stand as received
            await self._not_stored(ctx, [item.submission_id for item in recorded], "recording a later file of the same upload failed")
            if isinstance(error, SubjectErased):  # erased since the gate's cached standing: a new acceptance, a new pseudonym
                raise Problem("terms-not-accepted", "the data under this pseudonym was erased; accept the terms again") from None
            raise
        first, main = recorded[0], screened.files[0]
        return Submission(
            id=str(first.submission_id),
            sha256=main.sha256,
            type=main.type,
            size=main.size,
            grants=screened.grants,
            receipt=signed,
            files=screened.files,
            extra={
                "submission_ids": [str(item.submission_id) for item in recorded],
                "receipts": [item.receipt for item in recorded],
                "licence": {"id": licence.licence_id, "version": licence.version, "text_sha256": licence.text_sha256},
            },
        )

    async def confirm(self, ctx: RequestContext, submission: Submission, status: int) -> bool:
        """Append ``stored`` for every file of a submission the app answered 2xx for; return False (logged)
        when the ledger could not record it, so the client is not told the upload was stored."""
        try:
            await self.site.ledger.settle_submissions(self.site.campaign, self._targets(ctx, submission, f"the app answered {status}"),
                                                      "stored", only_from=PENDING)
        except Exception:
            logger.exception("ugc_guard: could not confirm submission %s as stored; the upload is answered 503", submission.id)
            return False
        emit(self.site, "submission.stored", subject=ctx.subject, submission_id=int(submission.id), files=stored_files(submission))
        return True

    async def mark_not_stored(self, ctx: RequestContext, submission: Submission, status: int | None) -> None:
        """Append ``not stored`` for every file of a submission the app refused or failed on (None)."""
        reason = "the app raised an error or sent no answer" if status is None else f"the app answered {status}"
        await self._not_stored(ctx, [int(sid) for sid in submission.extra.get("submission_ids", [submission.id])], reason)

    async def _not_stored(self, ctx: RequestContext, submission_ids: list[int], reason: str) -> None:
        if not submission_ids:
            return
        try:
            await self.site.ledger.settle_submissions(self.site.campaign, dict.fromkeys(submission_ids, (ctx.subject, reason)),
                                                      "not stored", only_from=PENDING)
        except LedgerError:
            logger.error("ugc_guard: could not mark submissions %s as not stored (%s); ledger unavailable", submission_ids, reason)

    @staticmethod
    def _targets(ctx: RequestContext, submission: Submission, reason: str) -> dict[int, tuple[str | None, str]]:
        return {int(sid): (ctx.subject, reason) for sid in submission.extra.get("submission_ids", [submission.id])}

    async def _sweep(self) -> None:
        """Claim what dead workers left ``received`` (at this worker's first upload, then every SWEEP_EVERY s)."""
        now = time.monotonic()
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        try:
            claimed = await self.site.ledger.sweep_unconfirmed(self.site.campaign, older_than=self.unconfirmed_after)
        except LedgerError as error:
            logger.warning("ugc_guard: could not sweep unconfirmed submissions: %s", error)
            return
        if claimed:
            logger.warning("ugc_guard: %d submission(s) left unconfirmed by stopped workers marked %r: %s",
                           len(claimed), UNCONFIRMED, claimed)


def _facts(file: ScreenedFile) -> SubmissionFacts:
    return SubmissionFacts(
        content_sha256=file.sha256,
        size=file.size,
        detected_type=file.detected_type,
        declared_type=file.declared_type or None,
        canonical_sha256=file.canonical_sha256,
        original_name=file.name or None,
        cleaning=file.cleaning,
        stripped=tuple(file.stripped),
        kept=tuple(file.kept),
    )
