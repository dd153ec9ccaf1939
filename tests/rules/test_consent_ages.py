"""GDPR Art. 8 consent ages per country, and the two guardian layers (personal data, licence)."""

from __future__ import annotations

import pytest

from ugc_guard.rules.consent_ages import CONSENT_AGES, DEFAULT_CONSENT_AGE, GuardianNeed, consent_age, guardian_need


def test_the_table_is_the_domain_notes() -> None:
    by_age: dict[int, set[str]] = {}
    for country, age in CONSENT_AGES.items():
        by_age.setdefault(age, set()).add(country)
    assert by_age == {
        13: {"BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE", "UK"},
        14: {"AT", "BG", "CY", "IT", "LT", "ES"},
        15: {"CZ", "FR", "GR"},
        16: {"DE", "HR", "HU", "IE", "LU", "NL", "PL", "RO", "SK"},
    }


@pytest.mark.parametrize(("country", "age"), [("NL", 16), ("be", 13), (" fr ", 15), ("EL", 15), ("GB", 13), ("ES", 14)])
def test_consent_age_reads_codes_loosely(country: str, age: int) -> None:
    assert consent_age(country) == age


@pytest.mark.parametrize("country", [None, "", "XX", "US", "SI"])
def test_unknown_or_unlisted_countries_get_the_gdpr_default(country: str | None) -> None:
    assert consent_age(country) == DEFAULT_CONSENT_AGE == 16


def test_without_the_country_rule_one_guardian_rule_covers_both_layers() -> None:
    assert guardian_need(16, 18, "BE", by_country=False) == GuardianNeed(licence=True, personal_data=True)
    assert guardian_need(18, 18, "BE", by_country=False) == GuardianNeed(licence=False, personal_data=False)


def test_a_sixteen_year_old_needs_a_guardian_for_the_licence_but_not_for_personal_data_anywhere() -> None:
    for country in [*CONSENT_AGES, None]:
        need = guardian_need(16, 18, country, by_country=True)
        assert need == GuardianNeed(licence=True, personal_data=False), country
        assert need.any


def test_a_campaign_admitting_thirteen_year_olds_follows_the_country_for_personal_data() -> None:
    assert guardian_need(13, 18, "BE", by_country=True) == GuardianNeed(licence=True, personal_data=False)
    assert guardian_need(13, 18, "NL", by_country=True) == GuardianNeed(licence=True, personal_data=True)
    assert guardian_need(14, 18, "FR", by_country=True).personal_data  # under 15 in France: child and parent
    assert not guardian_need(15, 18, "FR", by_country=True).personal_data


def test_the_licence_layer_is_the_policys_own_even_where_consent_comes_earlier() -> None:
    # a campaign whose licence minimum is 14 (capacity as the policy sets it) in Germany, where consent is 16
    need = guardian_need(14, 14, "DE", by_country=True)
    assert need == GuardianNeed(licence=False, personal_data=True)
    assert need.any
    assert not guardian_need(14, 14, "AT", by_country=True).any
