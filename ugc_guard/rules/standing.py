"""A subject's standing in a campaign, and what is still missing before an upload.

Plain data and functions: the store fills a :class:`Standing` from the ledger, and
:func:`missing` compares it with the policy now in force. Because the comparison happens on every
request, a new terms version invalidates every cached status at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .age import AgeRule, band_labels

__all__ = ["MISSING_CODES", "GuardianStatus", "Standing", "TermsRule", "missing", "refusal_code"]

GuardianStatus = Literal["not-required", "pending", "confirmed", "withdrawn"]


@dataclass(frozen=True, slots=True)
class Standing:
    """What the ledger says about one subject in one campaign (latest acceptance)."""

    accepted_terms_version: str | None = None
    age_band: str | None = None
    guardian_status: GuardianStatus = "not-required"
    guardians_confirmed: int = 0
    reconfirm: bool = False
    """Accepted as a minor: to be asked to confirm again once of age."""
    reconfirm_due: str | None = None
    """ISO date by which the person is of age (see :func:`ugc_guard.rules.age.reconfirm_due`)."""
    receipt_id: str | None = None
    """The ledger id of the latest acceptance: the evidence later records rely on."""
    receipt_hash: str | None = None
    accepted_at: str | None = None
    """ISO 8601 UTC time of the latest acceptance."""
    age_assurance: str | None = None
    """The assurance of the recorded age band (``self-declared``…): how strong a new declaration must be to raise it."""
    erased: bool = False
    """The subject's personal data was erased: no standing, and nothing more may be recorded under this id."""

    @classmethod
    def nobody(cls) -> Standing:
        return cls()


@dataclass(frozen=True, slots=True)
class TermsRule:
    version: str
    kept_versions: frozenset[str]
    """Earlier versions whose acceptances still count (a revision without re-acceptance)."""

    def accepts(self, version: str) -> bool:
        return version == self.version or version in self.kept_versions


# missing item -> problem code, in the order a person resolves them.
MISSING_CODES: dict[str, str] = {
    "accept-terms": "terms-not-accepted",
    "accept-current-terms": "terms-outdated",
    "age-requirement": "age-below-minimum",
    "age-verification": "age-not-verified",
    "guardian-consent": "guardian-consent-pending",
}


def missing(status: Standing, terms: TermsRule, age: AgeRule, guardians_required: int) -> list[str]:
    """Return what the subject still needs before an upload, in :data:`MISSING_CODES` order; [] means none."""
    needs: list[str] = []
    if status.accepted_terms_version is None:
        return ["accept-terms", "age-verification"]
    if not terms.accepts(status.accepted_terms_version):
        needs.append("accept-current-terms")
    labels = band_labels(age)
    if status.age_band is None:
        needs.append("age-verification")
    elif status.age_band == labels[0]:
        if status.guardian_status != "not-required" and (status.guardian_status != "confirmed" or status.guardians_confirmed < guardians_required):
            needs.append("guardian-consent")  # asked for the personal data (consent age by country), or accepted as a minor
    elif age.guardian_minimum is None or status.age_band not in labels[1:-1]:
        needs.append("age-requirement")  # a band this policy never admits (or no longer does)
    elif status.guardian_status != "confirmed" or status.guardians_confirmed < guardians_required:
        needs.append("guardian-consent")
    return needs


def refusal_code(needs: list[str]) -> str | None:
    """Return the problem code for the first missing item, or None when nothing is missing."""
    return MISSING_CODES[needs[0]] if needs else None
