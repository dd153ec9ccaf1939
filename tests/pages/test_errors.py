"""Every error of the terms form at once: a summary linking to each field, each field marked and described."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from .conftest import MINOR_POLICY, Harness, terms_form


def post(client: Any, **fields: str) -> Any:
    data = {"csrf_token": terms_form(client), "terms_version": "1", "lang": "en", "next": "/", **fields}
    return client.post("/ugc-guard/accept", data=data, follow_redirects=False)


def summary_targets(page: str) -> list[str]:
    block = page.split('<div class="errors"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#([\w-]+)">', block)


def test_all_errors_at_once_each_field_marked(make_harness: Callable[..., Harness]) -> None:
    client = make_harness(MINOR_POLICY).client()
    answer = post(client, birth_day="30", birth_month="2", birth_year="2001")
    page = answer.text
    assert answer.status_code == 400
    assert summary_targets(page) == ["accept_terms", "accept_licence", "birth_day"]
    for field, words in (("accept_terms", "Tick the box to accept the terms."), ("accept_licence", "Tick the box to grant the content licence."),
                         ("birth_day", "That date does not exist. Check the day and month.")):  # fmt: skip
        assert f'<p class="field-error" id="{field}-error">{words}</p>' in page
    assert 'id="accept_terms" aria-invalid="true" aria-describedby="accept_terms-error"' in page
    assert 'aria-describedby="birth_date_hint birth_day-error" class="group-invalid"' in page
    for part, value in (("day", "30"), ("month", "2"), ("year", "2001")):  # what was typed comes back
        assert re.search(rf'id="birth_{part}" name="birth_{part}" class="{part}" value="{value}"[^>]*aria-invalid="true"', page)
    assert not re.search(r'id="accept_terms"[^>]*checked', page)  # a tick is never made for the person


def test_missing_date_and_guardian_addresses(make_harness: Callable[..., Harness]) -> None:
    client = make_harness(MINOR_POLICY).client()
    page = post(client, accept_terms="yes", accept_licence="yes").text
    assert summary_targets(page) == ["birth_day"] and "Enter your date of birth." in page
    seventeen = dt.date.today() - dt.timedelta(days=17 * 366)
    page = post(client, accept_terms="yes", accept_licence="yes", birth_day=str(seventeen.day), birth_month=str(seventeen.month),
                birth_year=str(seventeen.year), guardian_email="nope", own_email="also nope").text
    assert summary_targets(page) == ["own_email", "guardian_email"]
    assert 'value="nope" aria-invalid="true" aria-describedby="guardian_email-error guardian_hint"' in page
    assert 'aria-describedby="own_email-error own_email_hint"' in page


def test_dutch_errors(make_harness: Callable[..., Harness]) -> None:
    client = make_harness().client()
    page = post(client, lang="nl", birth_day="1", birth_month="1", birth_year="2999").text
    assert "Verbeter het volgende" in page and "Die geboortedatum ligt in de toekomst." in page
    assert "Vink het vakje aan om akkoord te gaan met de voorwaarden." in page
