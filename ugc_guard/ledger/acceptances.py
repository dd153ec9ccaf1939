"""Terms acceptances and age results: each appended atomically with the subject's derived status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .canonical import utc_text
from .chain import Draft, Stored
from .core import LedgerCore
from .drafting import DerivedRows
from .inputs import AgeResult, ClientInfo, LicenceShown, TermsShown
from .rawsql import Upsert
from .receipts import Receipt, receipt_for
from .status import subject_row

__all__ = ["record_acceptance", "record_age_result"]


def _age_payload(age: AgeResult) -> dict[str, Any]:
    """Return the public payload of an ``age_result`` entry: band, method, assurance, re-confirmation and,
    for an attestation, its issuer and expiry (never the attestation, its device key or the nonce)."""
    payload: dict[str, Any] = {
        "band": age.band, "method": age.method, "assurance": age.assurance,
        "reconfirm_at_majority": age.reconfirm_at_majority,
        "reconfirm_due": age.reconfirm_due.isoformat() if age.reconfirm_due else None,
    }
    if age.issuer is not None:
        payload["issuer"] = age.issuer
    if age.attestation_expires is not None:
        payload["attestation_expires"] = utc_text(age.attestation_expires)
    return payload


def record_acceptance(
    core: LedgerCore, campaign: str, subject: str, terms: TermsShown, age: AgeResult | None, *,
    collection_method: str, policy_digest: str, capacity: str = "self", licence: LicenceShown | None = None,
    guardian_entries: Sequence[int] = (), client: ClientInfo | None = None,
) -> Receipt:
    """Append the age result (if any) and the terms acceptance; return the acceptance's receipt."""
    drafts: list[Draft] = []
    if age is not None:
        drafts.append(Draft("age_result", subject, _age_payload(age)))
    payload: dict[str, Any] = {
        "document_id": terms.document_id, "version": terms.version, "text_sha256": terms.text_sha256,
        "language": terms.language, "collection_method": collection_method, "capacity": capacity,
        "guardian_entries": list(guardian_entries), "policy_digest": policy_digest,
    }
    if licence is not None:
        payload["licence"] = {"id": licence.licence_id, "version": licence.version, "text_sha256": licence.text_sha256}
    ref = -1 if age is not None else None  # the acceptance refers to its age result, appended just before
    drafts.append(Draft("terms_acceptance", subject, payload, core.evidence(client), ref=ref, terms_version=terms.version))

    def status(stored: list[Stored]) -> list[Upsert]:
        acceptance = stored[-1]
        values: dict[str, Any] = {
            "terms_version": terms.version, "acceptance_id": acceptance.id, "accepted_at": acceptance.recorded_at,
            "capacity": capacity, "guardian_status": "none", "guardians_confirmed": 0,
        }
        if age is not None:
            values |= {"age_band": age.band, "age_assurance": age.assurance, "reconfirm": age.reconfirm_at_majority,
                       "reconfirm_due": age.reconfirm_due}
        return [subject_row(campaign, subject, acceptance.recorded_at, **values)]

    stored = core.append(campaign, drafts, DerivedRows(status))
    return receipt_for(stored, main=len(stored) - 1)


def record_age_result(core: LedgerCore, campaign: str, subject: str, age: AgeResult) -> Receipt:
    """Append an age result on its own (e.g. the app's own verification, after the acceptance) and
    make it the subject's current age band; return its receipt."""
    draft = Draft("age_result", subject, _age_payload(age))

    def status(stored: list[Stored]) -> list[Upsert]:
        return [subject_row(campaign, subject, stored[0].recorded_at, age_band=age.band, age_assurance=age.assurance,
                            reconfirm=age.reconfirm_at_majority, reconfirm_due=age.reconfirm_due)]

    return receipt_for(core.append(campaign, [draft], DerivedRows(status)))
