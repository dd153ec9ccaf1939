"""The gate's store on the real acceptance ledger (:class:`ugc_guard.ledger.AsyncLedger`).

One query per status lookup (the ledger's primary-key lookup on its subject status table); every
ledger error that means "cannot read or write now" becomes :class:`StoreUnavailable` (fail closed).
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ..agecheck import AgeProof
from ..ledger import (
    AgeResult,
    AsyncLedger,
    ClientInfo,
    GuardianRequestUsed,
    LedgerError,
    LicenceShown,
    SchemaOutdated,
    TermsShown,
)
from ..ledger import SubjectStatus as LedgerStatus
from ..rules.standing import Standing
from .records import AcceptanceRecord, GuardianConfirmation, GuardianRequestRecord, PendingGuardian, Recorded
from .store import StoreUnavailable, TokenSpent

if TYPE_CHECKING:
    from ..sites import Site

__all__ = ["LedgerGateStore", "gate_status"]

logger = logging.getLogger("ugc_guard.pages")


def gate_status(row: LedgerStatus) -> Standing:
    """Return the gate's view of a ledger status row (an erased subject has no standing)."""
    if row.erased:
        return Standing(erased=True)
    if row.terms_version is None:
        return Standing(age_band=row.age_band, age_assurance=row.age_assurance)
    return Standing(
        accepted_terms_version=row.terms_version,
        age_band=row.age_band,
        guardian_status="not-required" if row.guardian_status == "none" else row.guardian_status,
        guardians_confirmed=row.guardians_confirmed,
        reconfirm=row.reconfirm,
        reconfirm_due=row.reconfirm_due.isoformat() if row.reconfirm_due else None,
        receipt_id=str(row.acceptance_id) if row.acceptance_id is not None else None,
        accepted_at=row.accepted_at.isoformat(timespec="seconds") if row.accepted_at else None,
        age_assurance=row.age_assurance,
    )


def _receipt(receipt: Any) -> Recorded:
    return Recorded(str(receipt.entry_id), receipt.hash, _dt.datetime.fromisoformat(receipt.recorded_at), receipt.kind)


@asynccontextmanager
async def _unavailable_as_store_error() -> AsyncIterator[None]:
    try:
        yield
    except GuardianRequestUsed as error:
        raise TokenSpent(str(error)) from error
    except SchemaOutdated as error:
        logger.error("ugc_guard: %s", error)
        raise StoreUnavailable(str(error)) from error
    except LedgerError as error:
        raise StoreUnavailable(str(error)) from error


class LedgerGateStore:
    """:class:`~ugc_guard.pages.store.GateStore` for one campaign on an :class:`AsyncLedger`."""

    def __init__(self, ledger: AsyncLedger, campaign: str) -> None:
        self.ledger = ledger
        self.campaign = campaign

    @classmethod
    def for_site(cls, site: Site) -> LedgerGateStore:
        """Return a store on the site's ledger URL, secret, connect timeout and privacy modes."""
        return cls(site.ledger, site.campaign)

    async def status(self, subject: str) -> Standing:
        async with _unavailable_as_store_error():
            return gate_status(await self.ledger.subject_status(self.campaign, subject))

    async def record_acceptance(self, record: AcceptanceRecord) -> Recorded:
        terms = TermsShown(record.terms_document, record.terms_version, record.terms_sha256, record.language)
        licence = None
        if record.licence_id and record.licence_version and record.licence_sha256:
            licence = LicenceShown(record.licence_id, record.licence_version, record.licence_sha256)
        age = None
        if record.age_band is not None:
            age = AgeResult(record.age_band, record.age_method, record.age_assurance, record.reconfirm_due)
        async with _unavailable_as_store_error():
            receipt = await self.ledger.record_acceptance(
                self.campaign, record.subject, terms, age,
                collection_method=record.collection_method, policy_digest=record.policy_digest, licence=licence,
                client=ClientInfo(record.client_address, record.user_agent),
            )  # fmt: skip
        return _receipt(receipt)

    async def record_age_result(self, subject: str, band: str, method: str, assurance: str) -> Recorded:
        async with _unavailable_as_store_error():
            receipt = await self.ledger.record_age_result(self.campaign, subject, AgeResult(band, method, assurance))
        return _receipt(receipt)

    async def record_attested_age(self, subject: str, proof: AgeProof, reconfirm_due: _dt.date | None) -> Recorded:
        age = AgeResult(proof.band, proof.method, proof.assurance, reconfirm_due, proof.issuer, proof.attestation_expires)
        async with _unavailable_as_store_error():
            receipt = await self.ledger.record_age_result(self.campaign, subject, age)
        return _receipt(receipt)

    async def request_guardian(self, request: GuardianRequestRecord) -> None:
        async with _unavailable_as_store_error():
            await self.ledger.record_guardian_request(
                self.campaign, request.subject, acceptance_id=int(request.acceptance_id), token_sha256=request.token_hash,
                expires_at=request.expires_at, guardian_email=request.guardian_email, guardian_index=request.guardian_index,
                language=request.language, checks=request.checks,
            )  # fmt: skip

    async def find_guardian_request(self, token_hash: str) -> PendingGuardian | None:
        async with _unavailable_as_store_error():
            found = await self.ledger.find_guardian_request(self.campaign, token_hash)
        if found is None or found.campaign != self.campaign:
            return None
        return PendingGuardian(
            str(found.request_id), found.subject, str(found.acceptance_id), found.terms_version, found.expires_at, found.used,
            found.language or "en",
        )  # fmt: skip

    async def confirm_guardian(self, confirmation: GuardianConfirmation) -> Recorded:
        terms = TermsShown(confirmation.terms_document, confirmation.terms_version, confirmation.terms_sha256, confirmation.language)
        licence = LicenceShown(confirmation.licence_id, confirmation.licence_version, confirmation.licence_sha256)
        async with _unavailable_as_store_error():
            receipt = await self.ledger.record_guardian_confirmation(
                self.campaign, int(confirmation.request_id), guardian_name=confirmation.guardian_name,
                relationship=confirmation.relationship, terms=terms, licence=licence, policy_digest=confirmation.policy_digest,
                client=ClientInfo(confirmation.client_address, confirmation.user_agent), checks=confirmation.checks,
            )  # fmt: skip
        return _receipt(receipt)

    async def reconfirmations(self, today: _dt.date) -> Sequence[dict[str, Any]]:
        async with _unavailable_as_store_error():
            rows = await self.ledger.due_reconfirmations(self.campaign, today)
        keys = ("campaign", "subject", "acceptance_id", "accepted_at", "terms_version", "age_band", "guardian_status", "reconfirm_due")
        return [{key: getattr(row, key) for key in keys} for row in rows]
