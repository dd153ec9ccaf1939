"""Consent ages by country (``age.consent_age_by_country``) through the real middleware and ledger: the
guardian rule for personal data follows the country of residence, the licence rule stays the policy's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from ugc_guard.ledger import Ledger

from .conftest import Harness, accept_form

TODAY = dt.date.today()
YOUNG_LICENCE = {"age": {"minimum": 14, "consent_age_by_country": True}}
"""A campaign whose licence age (capacity as the policy sets it) is 14, below some countries' consent age."""
MINORS_BY_COUNTRY = {"age": {"guardian_minimum": 16, "consent_age_by_country": True}}


def born(years: int) -> str:
    """The birth date of someone who turned ``years`` a month ago."""
    day = TODAY - dt.timedelta(days=30)
    try:
        return day.replace(year=day.year - years).isoformat()
    except ValueError:
        return day.replace(year=day.year - years, day=28).isoformat()


def json_accept(client: Any, **fields: Any) -> Any:
    body = {"terms_version": "1", "accept_terms": True, "accept_licence": True, **fields}
    return client.post("/ugc-guard/accept", json=body, headers={"accept": "application/json"})


@pytest.mark.parametrize(
    ("age", "country", "guardian"),
    [
        (15, "DE", True),  # consent age 16 in Germany: a guardian for the personal data
        (15, "de", True),
        (15, "AT", False),  # 14 in Austria: alone
        (14, "BE", False),  # 13 in Belgium
        (14, "FR", True),  # under 15 in France: the child and a parent
        (15, "FR", False),
        (15, None, True),  # no country given: the GDPR default of 16, failing closed
        (15, "US", True),  # a country not in the table: 16
        (30, "DE", False),  # the exact age from the birth date, not the band's youngest
    ],
)
def test_the_personal_data_layer_follows_the_country(make_harness: Callable[..., Harness], age: int, country: str | None, guardian: bool) -> None:
    harness = make_harness(YOUNG_LICENCE)
    client = harness.client()
    fields: dict[str, Any] = {"birth_date": born(age)} | ({"country": country} if country else {})
    if guardian:
        refused = json_accept(client, **fields)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid-request")
        assert "guardian" in refused.json()["detail"]
        assert Ledger(harness.ledger_url).entries(campaign="test-campaign").items == []
        accepted = json_accept(client, guardian_email="parent@example.org", **fields)
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["status"]["age_band"] == "14+" and accepted.json()["status"]["missing"] == ["guardian-consent"]
        assert len(harness.outbox.messages) == 1
        assert client.post("/upload", content=b"x").json()["code"] == "guardian-consent-pending"
    else:
        accepted = json_accept(client, **fields)
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["status"]["missing"] == [] and harness.outbox.messages == []
        assert client.post("/upload", content=b"x").status_code == 200


def test_a_guardians_confirmation_opens_uploads_for_the_personal_data_layer(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(YOUNG_LICENCE)
    minor = harness.client()
    assert json_accept(minor, birth_date=born(15), country="NL", guardian_email="parent@example.org").status_code == 201
    guardian = harness.client()
    page = guardian.get(harness.outbox.path())
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    data = {"csrf_token": token.group(1), "token": harness.outbox.token(), "guardian_name": "Sam Parent", "relationship": "parent",
            "accept_terms": "yes", "accept_licence": "yes"}  # fmt: skip
    assert guardian.post("/ugc-guard/guardian/confirm", data=data).status_code == 200
    assert minor.post("/upload", content=b"x").status_code == 200


def test_without_the_country_rule_the_licence_age_covers_both(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"minimum": 14}})
    client = harness.client()
    accepted = json_accept(client, birth_date=born(15), country="DE")  # the country is not asked, and not used
    assert accepted.status_code == 201 and accepted.json()["status"]["missing"] == []
    assert 'name="country"' not in client.get("/ugc-guard/terms").text


@pytest.mark.parametrize("country", [*sorted({"NL", "BE", "DE", "SE"}), None])
def test_the_licence_layer_stays_the_policys(make_harness: Callable[..., Harness], country: str | None) -> None:
    harness = make_harness(MINORS_BY_COUNTRY)
    client = harness.client()
    fields = {"birth_date": born(16)} | ({"country": country} if country else {})
    refused = json_accept(client, **fields)  # 16 may consent to the data anywhere, but not grant a licence alone
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid-request")
    assert json_accept(client, guardian_email="parent@example.org", **fields).json()["status"]["age_band"] == "16-17"


@pytest.mark.parametrize("country", ["Deutschland", "D", "N1", "ÑL", 7])
def test_a_country_that_is_not_a_code(make_harness: Callable[..., Harness], country: Any) -> None:
    harness = make_harness(YOUNG_LICENCE)
    refused = json_accept(harness.client(), birth_date=born(30), country=country)
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid-request")
    assert Ledger(harness.ledger_url).entries(campaign="test-campaign").items == []


def test_the_form_asks_the_country_and_takes_it(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(YOUNG_LICENCE)
    client = harness.client()
    page = client.get("/ugc-guard/terms").text
    assert '<select id="country" name="country"' in page and '<option value="DE">DE</option>' in page and '<option value="">' in page
    assert accept_form(client, birth_date=born(15), country="DE").status_code == 400  # the guardian address is missing
    assert accept_form(client, birth_date=born(15), country="AT").status_code == 303
    assert accept_form(client, birth_date=born(15), country="Atlantis").status_code == 400
