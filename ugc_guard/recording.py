"""Joins screening to the ledger: each screened file becomes a submission with its two grants.

The screening stage calls :meth:`SubmissionRecorder.record` before the app sees a byte; if it
raises, the upload is refused (fail closed). It re-checks what the gate decided, so a pipeline
without the gate can never record a grant nobody accepted terms for.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .gate.age import band_labels
from .gate.lang import choose_language
from .gate.status import missing, refusal_code
from .ledger import LedgerError
from .ledger.inputs import ClientInfo, LicenceGrant, PortraitGrant, SubmissionFacts
from .problems import Problem
from .screening.models import ScreenedFile, ScreenedUpload, Submission

if TYPE_CHECKING:
    from .context import RequestContext
    from .gate.service import Gate
    from .sites import Site

__all__ = ["SubmissionRecorder"]

logger = logging.getLogger("ugc_guard")


class SubmissionRecorder:
    """Records screened uploads of one site in its ledger, and marks them not stored when the app fails."""

    def __init__(self, site: Site, gate: Gate) -> None:
        self.site = site
        self.gate = gate
        policy = site.policy
        self.grants_by_language = {language: LicenceGrant.from_policy(policy, language) for language in policy.licence.texts}
        self.portrait_withdrawable = policy.portrait.withdrawable
        self.adult_band = band_labels(gate.age_rule)[0]

    async def record(self, ctx: RequestContext, screened: ScreenedUpload) -> Submission:
        """Append every file with its licence and portrait grants; return the submission for ``request.state.ugc``.

        Raises :class:`Problem`: the gate's refusal code when the subject may not upload (defence in
        depth), ``licence-not-granted``, or ``ledger-unavailable`` when the ledger cannot record.
        """
        status = ctx.state.get("subject_status")
        acceptance_id = ctx.state.get("acceptance_id")
        if ctx.subject is None or status is None or acceptance_id is None:
            raise Problem("terms-not-accepted", "no current acceptance was found for this upload")
        needs = missing(status, self.gate.terms_rule, self.gate.age_rule, self.gate.guardians_required)
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
        recorded: list[Any] = []
        try:
            for file in screened.files:
                recorded.append(
                    await self.site.ledger.record_submission(
                        self.site.campaign, ctx.subject, _facts(file), licence, portrait,
                        acceptance_id=int(acceptance_id), client=client,
                    )
                )
        except Exception:
            # screening turns any failure here into 503 ledger-unavailable; files already recorded
            # for this refused upload must not stand as accepted
            await self._not_stored([item.submission_id for item in recorded], "recording a later file of the same upload failed")
            raise
        first, main = recorded[0], screened.files[0]
        return Submission(
            id=str(first.submission_id),
            sha256=main.sha256,
            type=main.type,
            size=main.size,
            grants=screened.grants,
            receipt=first.receipt,
            files=screened.files,
            extra={
                "submission_ids": [str(item.submission_id) for item in recorded],
                "receipts": [item.receipt for item in recorded],
                "licence": {"id": licence.licence_id, "version": licence.version, "text_sha256": licence.text_sha256},
            },
        )

    async def mark_not_stored(self, ctx: RequestContext, submission: Submission, status: int | None) -> None:
        """Append ``not stored`` for every file of a submission the app refused (status ≥ 400) or failed on (None)."""
        reason = "the app raised an error" if status is None else f"the app answered {status}"
        await self._not_stored(submission.extra.get("submission_ids", [submission.id]), reason)

    async def _not_stored(self, submission_ids: list[Any], reason: str) -> None:
        for submission_id in submission_ids:
            try:
                await self.site.ledger.record_submission_status(int(submission_id), "not stored", reason)
            except LedgerError:
                logger.error("ugc_guard: could not mark submission %s as not stored (%s); ledger unavailable", submission_id, reason)


def _facts(file: ScreenedFile) -> SubmissionFacts:
    return SubmissionFacts(
        content_sha256=file.sha256,
        size=file.size,
        detected_type=file.detected_type,
        declared_type=file.declared_type or None,
        canonical_sha256=file.canonical_sha256,
        original_name=file.name or None,
    )
