"""Plain records the gate and screening hand to the ledger (no database types)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = [
    "SUBMISSION_STATUSES", "AgeResult", "ClientInfo", "LicenceGrant", "LicenceShown", "PortraitGrant", "SubmissionFacts",
    "TermsShown",
]

SUBMISSION_STATUSES = ("received", "stored", "not stored", "not stored (unconfirmed)", "withdrawn", "expired", "erased",
                       "accepted")
"""``received`` until the app answered; ``accepted`` only in ledgers written before confirmations existed."""
SubmissionStatus = Literal["received", "stored", "not stored", "not stored (unconfirmed)", "withdrawn", "expired", "erased",
                           "accepted"]


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """The raw client address and user agent; the ledger keeps only what ``policy.privacy`` allows."""

    address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class TermsShown:
    """The exact terms text shown: document, version, SHA-256 of the text, language."""

    document_id: str
    version: str
    text_sha256: str
    language: str

    @classmethod
    def from_policy(cls, policy: Policy, language: str) -> TermsShown:
        """Return the terms of ``policy`` as shown in ``language``. Raises :class:`KeyError` for a language without a text."""
        return cls(policy.terms.document_id, policy.terms.version, policy.terms.texts[language].sha256, language)


@dataclass(frozen=True, slots=True)
class LicenceShown:
    """The licence text shown with the terms (id, version, SHA-256)."""

    licence_id: str
    version: str
    text_sha256: str

    @classmethod
    def from_policy(cls, policy: Policy, language: str) -> LicenceShown:
        """Return the licence of ``policy`` as shown in ``language``."""
        return cls(policy.licence.id, policy.licence.version, policy.licence.texts[language].sha256)


@dataclass(frozen=True, slots=True)
class AgeResult:
    """An age check's result. Never the date of birth: a band, the method and the assurance level.
    ``reconfirm_due`` (a minor's coming of age, as coarse as the gate likes) drives re-confirmation.
    An attestation (method ``eu-age-verification``) adds who issued it and until when it is valid;
    the attestation itself, its device key and the request's nonce are never recorded."""

    band: str
    method: str
    assurance: str
    reconfirm_due: dt.date | None = None
    issuer: str | None = None
    """The attestation's document signer (certificate subject, RFC 4514): a provider, not the person."""
    attestation_expires: dt.datetime | None = None
    """The attestation's ``validUntil``."""

    @property
    def reconfirm_at_majority(self) -> bool:
        return self.reconfirm_due is not None


@dataclass(frozen=True, slots=True)
class SubmissionFacts:
    """What screening found about an uploaded file. ``original_name`` is sanitised and stored sealed."""

    content_sha256: str
    size: int
    detected_type: str
    declared_type: str | None = None
    canonical_sha256: str | None = None
    """SHA-256 of the cleaned file (metadata stripped, remuxed or re-encoded), before rights metadata is written."""
    original_name: str | None = None
    cleaning: str | None = None
    """How the file was cleaned: ``lossless``, ``remux`` or ``re-encode`` (None: delivered as received)."""
    stripped: tuple[str, ...] = ()
    """The metadata screening removed (``EXIF``, ``GPS``, ``QuickTime location``…)."""
    kept: tuple[str, ...] = ()
    """The metadata deliberately kept (``EXIF orientation``, ``ICC profile``, ``display matrix``…)."""


@dataclass(frozen=True, slots=True)
class LicenceGrant:
    """The copyright licence granted for one submission (seed 000 clause 4) and the warranties given."""

    licence_id: str
    version: str
    text_sha256: str
    rights: tuple[str, ...]
    warranties: tuple[str, ...]
    territory: str = "worldwide"
    exclusive: bool = False
    royalty_free: bool = True
    sublicensable: bool = True
    irrevocable: bool = True
    capacity: Literal["self", "guardian"] = "self"
    """Who granted it: the uploader, or (a minor) the uploader with a confirmed guardian consent covering the licence."""

    @classmethod
    def from_policy(cls, policy: Policy, language: str) -> LicenceGrant:
        """Return the grant ``policy.licence`` describes, with the text shown in ``language``."""
        licence = policy.licence
        return cls(
            licence.id, licence.version, licence.texts[language].sha256, tuple(str(r) for r in licence.rights),
            tuple(str(w) for w in licence.warranties), licence.territory, licence.exclusive, licence.royalty_free,
            licence.sublicensable, licence.irrevocable,
        )


@dataclass(frozen=True, slots=True)
class PortraitGrant:
    """Portrait-right consent for one submission: the uploader's own consent, their declaration that
    every other depicted person consented, and whether the consent can be withdrawn."""

    own_consent: bool
    others_declaration: bool
    withdrawable: bool = True
    others: Literal["none", "all-consented"] | None = None
    """What was declared about other people: nobody else is recognisable, or every one of them consented."""
