"""The age section of a policy: the age rule, how age is established, and how guardians are reached."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import EmailStr, Field, SecretStr, model_validator

from .base import Section
from .certs import CaCertificates
from .types import Duration

__all__ = ["Age", "AgeMethod", "Notifier", "SmtpNotifier"]


class AgeMethod(StrEnum):
    birth_date = "birth_date"
    """Ask the birth date, compute the age band, discard the date."""
    age_band = "age_band"
    """Ask which band applies (self-declared)."""
    external = "external"
    """The app sets an age result from its own verification (e.g. the EU age-verification app)."""
    eu_age_verification = "eu-age-verification"
    """The person presents a Proof of Age attestation (ISO mdoc ``eu.europa.ec.av.1``) from their wallet
    through the browser's Digital Credentials API; ugc_guard verifies it against ``trusted_issuers``."""


class SmtpNotifier(Section):
    host: str
    port: int = Field(587, gt=0, lt=65536)
    sender: EmailStr
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None


class Notifier(Section):
    kind: Literal["log", "smtp"] = "log"
    """``log`` writes the guardian link to the log (development); ``smtp`` sends an e-mail."""
    smtp: SmtpNotifier | None = None

    @model_validator(mode="after")
    def _smtp(self) -> Notifier:
        if self.kind == "smtp" and self.smtp is None:
            raise ValueError("kind: smtp needs an smtp section with host and sender")
        return self


class Age(Section):
    minimum: int = Field(18, ge=13, le=21)
    """Age from which a person may upload alone (capacity to grant a licence: 18 in the EU)."""
    guardian_minimum: int | None = Field(None, ge=13, le=20)
    """Lower age allowed with confirmed guardian consent (e.g. 16); below it, never."""
    method: AgeMethod = AgeMethod.birth_date
    assurance: Literal["self-declared", "document", "card", "mobile-operator", "eu-age-verification"] = "self-declared"
    """Assurance level recorded with the age result."""
    guardians_required: int = Field(1, ge=1, le=2)
    """Holders of parental authority who must confirm (Dutch courts have required both)."""
    guardian_token_ttl: Duration = "P7D"
    reconfirm_at_majority: bool = True
    """Flag minors' acceptances to be re-confirmed when the person turns 18."""
    notifier: Notifier = Notifier()
    trusted_issuers: list[CaCertificates] = []
    """PEM files of the CA certificates whose age attestations count (method ``eu-age-verification``)."""
    consent_age_by_country: bool = False
    """Where the person's country of residence is known, a guardian consents to the personal-data
    processing below that country's GDPR Art. 8 age (13–16); false: the guardian rule above covers both."""

    @model_validator(mode="before")
    @classmethod
    def _assurance_follows_method(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("method") == AgeMethod.eu_age_verification:
            if data.get("assurance", AgeMethod.eu_age_verification) != AgeMethod.eu_age_verification:
                raise ValueError("assurance follows method eu-age-verification; remove assurance or write eu-age-verification")
            return {**data, "assurance": AgeMethod.eu_age_verification.value}
        return data

    @model_validator(mode="after")
    def _order(self) -> Age:
        if self.guardian_minimum is not None and self.guardian_minimum >= self.minimum:
            raise ValueError("guardian_minimum must be lower than minimum")
        if self.method == AgeMethod.eu_age_verification and not self.trusted_issuers:
            raise ValueError("method eu-age-verification needs trusted_issuers: PEM files of the CAs whose attestations count")
        if self.trusted_issuers and self.method != AgeMethod.eu_age_verification:
            raise ValueError("trusted_issuers only applies to method eu-age-verification")
        if self.assurance == "eu-age-verification" and self.method in (AgeMethod.birth_date, AgeMethod.age_band):
            raise ValueError(f"assurance eu-age-verification is not what method {self.method} gives; use method eu-age-verification")
        return self
