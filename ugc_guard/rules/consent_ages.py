"""Two legal layers decide when a minor needs a parent or guardian, and they are kept apart here.

- **Data-protection consent** (GDPR Art. 8): a child may consent alone to the processing of their
  personal data from the national "digital consent" age, 13 to 16. A cross-border service may have
  to apply the age of the person's country of residence (EDPB Guidelines 05/2020 on consent, §131),
  so this is a country table, used when the policy sets ``age.consent_age_by_country``.
- **Capacity to grant a copyright licence**: a contract. Under 18 is a minor across the EU, so the
  policy's own ``age.minimum`` decides, whatever the country's digital-consent age.

The table is the one in the domain notes (``shared/domain/notes.md`` §1): 13 BE DK EE FI LV MT PT SE
UK; 14 AT BG CY IT LT ES; 15 CZ FR (under 15 the child *and* a parent) GR;
16 DE HR HU IE LU NL (UAVG art. 5) PL RO SK. A country not in the table (or not known) gets 16, the
GDPR's default age and the highest any member state chose: failing closed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONSENT_AGES", "DEFAULT_CONSENT_AGE", "GuardianNeed", "consent_age", "guardian_need"]

DEFAULT_CONSENT_AGE = 16
"""GDPR Art. 8(1): 16 unless a member state sets a lower age, not below 13."""

CONSENT_AGES: dict[str, int] = {
    **dict.fromkeys(("BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE", "UK"), 13),
    **dict.fromkeys(("AT", "BG", "CY", "IT", "LT", "ES"), 14),
    **dict.fromkeys(("CZ", "FR", "GR"), 15),
    **dict.fromkeys(("DE", "HR", "HU", "IE", "LU", "NL", "PL", "RO", "SK"), 16),
}
"""ISO 3166-1 alpha-2 country -> GDPR Art. 8 digital-consent age (``EL`` and ``GB`` are read as GR and UK)."""

_ALIASES = {"EL": "GR", "GB": "UK"}


def consent_age(country: str | None) -> int:
    """Return the digital-consent age for an ISO 3166-1 alpha-2 ``country``; 16 when unknown or not listed."""
    if not country:
        return DEFAULT_CONSENT_AGE
    code = country.strip().upper()
    return CONSENT_AGES.get(_ALIASES.get(code, code), DEFAULT_CONSENT_AGE)


@dataclass(frozen=True, slots=True)
class GuardianNeed:
    """Which layer needs a guardian's consent. The minor always gives their own as well (they accept the
    terms; the guardian confirms), which also covers France's rule that under 15 both consent."""

    licence: bool
    """A guardian grants the copyright licence with the minor (under the policy's ``minimum``)."""
    personal_data: bool
    """A guardian consents to the processing of the minor's personal data (under the consent age that applies)."""

    @property
    def any(self) -> bool:
        return self.licence or self.personal_data


def guardian_need(youngest_age: int, minimum: int, country: str | None, by_country: bool) -> GuardianNeed:
    """Return both layers' guardian rule for a person who is at least ``youngest_age``.

    Pass the lowest age of the person's band when the exact age is not known (an attestation proves
    ``age_over_16``, not 16 or 17): the answer is then right for everyone in the band. ``minimum`` is
    the policy's ``age.minimum``; ``by_country`` its ``age.consent_age_by_country`` (``country`` is the
    person's country of residence, ISO 3166-1 alpha-2, or None when not known). Without
    ``by_country`` the personal-data layer follows the licence layer: one guardian rule for both.
    """
    licence = youngest_age < minimum
    if not by_country:
        return GuardianNeed(licence=licence, personal_data=licence)
    return GuardianNeed(licence=licence, personal_data=youngest_age < consent_age(country))
