"""The 16–17 flow: guardian links that work once, expire, stay in their campaign; two guardians."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from ugc_guard.ledger import Ledger

from .conftest import CSRF_RE, Harness, accept_form

SEVENTEEN = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()


def confirm(harness: Harness, index: int = -1, name: str = "Sam Parent", **fields: str):  # type: ignore[no-untyped-def]
    guardian = harness.client()
    page = guardian.get(harness.outbox.path(index))
    assert page.status_code == 200, page.text
    match = CSRF_RE.search(page.text)
    assert match is not None
    data = {"csrf_token": match.group(1), "token": harness.outbox.token(index), "lang": "en", "guardian_name": name,
            "relationship": "parent", "accept_terms": "yes", "accept_licence": "yes", **fields}  # fmt: skip
    return guardian.post("/ugc-guard/guardian/confirm", data=data)


def test_minor_needs_guardian_then_uploads(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    minor = harness.client()
    assert accept_form(minor, birth_date=SEVENTEEN, guardian_email="Parent@Example.org").status_code == 303
    assert minor.post("/upload", content=b"x").json()["code"] == "guardian-consent-pending"
    status = minor.get("/ugc-guard/status").json()
    assert status["guardian_status"] == "pending" and status["age_band"] == "16-17" and status["reconfirm"] is True
    assert "Waiting for your parent" in minor.get("/ugc-guard/terms").text
    message = harness.outbox.messages[0]
    assert message.to == "Parent@example.org" and "token=" in message.link
    done = confirm(harness)
    assert done.status_code == 200 and 'id="receipt"' in done.text
    assert minor.post("/upload", content=b"x").status_code == 200  # cache invalidated by the confirmation
    kinds = [entry.kind for entry in Ledger(harness.ledger_url).entries(campaign="test-campaign").items]
    assert kinds == ["age_result", "terms_acceptance", "guardian_requested", "guardian_confirmed"]
    raw = str([entry.as_dict() for entry in Ledger(harness.ledger_url).entries(campaign="test-campaign").items])
    assert harness.outbox.token() not in raw  # only the token's hash is stored
    assert "Parent@example.org" not in raw  # sealed


def test_guardian_email_required_for_minor(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    assert accept_form(harness.client(), birth_date=SEVENTEEN).status_code == 400
    assert accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="not-an-email").status_code == 400
    assert harness.outbox.messages == []


def test_token_is_single_use(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org")
    assert confirm(harness).status_code == 200
    reused = harness.client().get(harness.outbox.path())
    assert reused.status_code == 410 and "already used" in reused.text


def test_expired_token(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16, "guardian_token_ttl": "PT1S"}})
    accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org")
    import time

    time.sleep(1.1)
    assert harness.client().get(harness.outbox.path()).status_code == 410


def test_token_of_another_campaign(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org")
    other = make_harness({"campaign": {"id": "other-campaign"}, "age": {"guardian_minimum": 16}}, ledger_url=harness.ledger_url)
    assert other.client().get(harness.outbox.path()).status_code == 410


@pytest.mark.parametrize("token", ["", "short", "x" * 43 + "!", "A" * 43])
def test_bad_tokens(make_harness: Callable[..., Harness], token: str) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    answer = harness.client().get("/ugc-guard/guardian/confirm", params={"token": token}, headers={"accept": "application/json"})
    assert answer.status_code == 410 and answer.json()["code"] == "guardian-token-invalid"


def test_confirmation_needs_name_relationship_ticks_and_form_token(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org")
    assert confirm(harness, name=" ").status_code == 422
    assert confirm(harness, relationship="friend").status_code == 422
    assert confirm(harness, accept_licence="").status_code == 422
    assert confirm(harness, csrf_token="forged").status_code == 403
    assert confirm(harness).status_code == 200


def test_two_guardians(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16, "guardians_required": 2}})
    minor = harness.client()
    same = accept_form(minor, birth_date=SEVENTEEN, guardian_email="a@example.org", guardian_email_2="A@example.org")
    assert same.status_code == 400
    assert accept_form(minor, birth_date=SEVENTEEN, guardian_email="a@example.org").status_code == 400
    accept_form(minor, birth_date=SEVENTEEN, guardian_email="a@example.org", guardian_email_2="b@example.org")
    assert len(harness.outbox.messages) == 2
    assert confirm(harness, 0).status_code == 200
    assert minor.post("/upload", content=b"x").json()["code"] == "guardian-consent-pending"
    assert harness.client().get(harness.outbox.path(0)).status_code == 410  # one guardian cannot count twice
    assert confirm(harness, 1, name="Alex Parent").status_code == 200
    assert minor.post("/upload", content=b"x").status_code == 200


def test_link_of_a_superseded_acceptance_is_dead(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    minor = harness.client()
    accept_form(minor, birth_date=SEVENTEEN, guardian_email="p@example.org")
    accept_form(minor, birth_date=SEVENTEEN, guardian_email="q@example.org")
    assert harness.client().get(harness.outbox.path(0)).status_code == 410
    assert confirm(harness, 1).status_code == 200


def test_reconfirmations_listed(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org")
    from click.testing import CliRunner

    from ugc_guard.cli import main

    policy = str(harness.gate.policy.terms.texts["en"].path.parent / "policy.yaml")
    runner = CliRunner()
    later = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    listed = runner.invoke(main, ["gate", "reconfirmations", "--policy", policy, "--ledger", harness.ledger_url, "--on", later])
    assert listed.exit_code == 0, listed.output
    assert '"age_band": "16-17"' in listed.output
    today = runner.invoke(main, ["gate", "reconfirmations", "--policy", policy, "--ledger", harness.ledger_url])
    assert today.exit_code == 0 and today.output.strip() == "[]"


def test_guardian_page_language_and_no_referrer(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org", lang="nl")
    page = harness.client().get(harness.outbox.path())
    assert page.headers["referrer-policy"] == "no-referrer"  # the token is in the URL
    assert re.search(r'<html lang="nl">', page.text) and "Bevestig" in page.text
