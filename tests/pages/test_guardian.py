"""The 16–17 flow: guardian links that work once, expire, stay in their campaign; two guardians."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection
from starlette.testclient import TestClient

from ugc_guard.ledger import Ledger
from ugc_guard.ledger.guardians import address_hash

from .conftest import CSRF_RE, Harness, accept_form

SEVENTEEN = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()


def confirm(harness: Harness, index: int = -1, name: str = "Sam Parent", headers: dict[str, str] | None = None, **fields: str):  # type: ignore[no-untyped-def]
    guardian = harness.client(headers=headers or {})
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
    half = minor.get("/ugc-guard/status").json()
    assert (half["guardian_status"], half["guardians_confirmed"], half["guardians_required"], half["missing"]) == (
        "pending", 1, 2, ["guardian-consent"])
    assert harness.client().get(harness.outbox.path(0)).status_code == 410  # one guardian cannot count twice
    assert confirm(harness, 1, name="Alex Parent").status_code == 200
    assert minor.post("/upload", content=b"x").status_code == 200
    both = minor.get("/ugc-guard/status").json()
    assert (both["guardian_status"], both["guardians_confirmed"], both["missing"]) == ("confirmed", 2, [])


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


def sealed_entries(harness: Harness) -> list[dict[str, Any]]:
    ledger = Ledger(harness.ledger_url, secret=os.environ["UGC_GUARD_SECRET"])
    return [entry.as_dict() for entry in ledger.entries(campaign="test-campaign").items]


def test_minor_cannot_confirm_from_their_own_session(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    minor = harness.client()
    accept_form(minor, birth_date=SEVENTEEN, guardian_email="p@example.org")
    recorded = len(sealed_entries(harness))
    page = minor.get(harness.outbox.path())
    assert page.status_code == 403 and "own browser session" in page.text
    api = minor.get(harness.outbox.path(), headers={"accept": "application/json"})
    assert api.status_code == 403 and api.json()["code"] == "guardian-self-confirm"
    # a form page fetched elsewhere and posted with the minor's cookie is refused too
    elsewhere = harness.client().get(harness.outbox.path())
    match = CSRF_RE.search(elsewhere.text)
    assert match is not None
    data = {"csrf_token": match.group(1), "token": harness.outbox.token(), "guardian_name": "Me Really", "relationship": "parent",
            "accept_terms": "yes", "accept_licence": "yes"}  # fmt: skip
    posted = minor.post("/ugc-guard/guardian/confirm", data=data, headers={"accept": "application/json"})
    assert posted.status_code == 403 and posted.json()["code"] == "guardian-self-confirm"
    assert len(sealed_entries(harness)) == recorded
    assert minor.post("/upload", content=b"x").json()["code"] == "guardian-consent-pending"
    assert confirm(harness).status_code == 200  # the link still works for the guardian


@pytest.mark.parametrize("own", ["P@Example.org", "p+kid@example.org", "p@example.org"])
def test_guardian_address_must_not_be_the_minors_own(make_harness: Callable[..., Harness], own: str) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    minor = harness.client()
    page = accept_form(minor, birth_date=SEVENTEEN, guardian_email="p@example.org", own_email=own)
    assert page.status_code == 400 and "must not be your own" in page.text
    answer = minor.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "birth_date": SEVENTEEN,
                                                   "guardian_email": "p@example.org", "own_email": own})  # fmt: skip
    assert answer.status_code == 400 and answer.json()["code"] == "invalid-request" and "own address" in answer.json()["detail"]
    assert sealed_entries(harness) == [] and harness.outbox.messages == []


def test_gmail_dots_reach_the_same_mailbox(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    page = accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="Kid.Name@googlemail.com", own_email="kidname@gmail.com")
    assert page.status_code == 400 and harness.outbox.messages == []


def test_invalid_own_email_is_refused(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    page = accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org", own_email="not an address")
    assert page.status_code == 400 and "own e-mail address is not valid" in page.text
    assert accept_form(harness.client(), own_email="not an address").status_code == 303  # adults: the field is not used


def test_confirmation_records_channel_and_checks(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    minor = harness.client()
    accept_form(minor, birth_date=SEVENTEEN, guardian_email="p@example.org", own_email="kid@example.org")
    assert confirm(harness).status_code == 200
    request, confirmation = sealed_entries(harness)[-2:]
    assert request["kind"] == "guardian_requested" and request["data"]["channel"] == "e-mail"
    assert request["data"]["checks"] == {"address_differs_from_minor": True}
    assert "kid@example.org" not in str(sealed_entries(harness))  # the minor's own address is never kept
    data = confirmation["data"]
    assert data["channel"] == "e-mail"
    # the test client is one address and one user agent: same network as the minor (recorded, not refused)
    assert data["checks"] == {
        "token_possession": True, "minor_session": False, "session": "none", "address_differs_from_minor": True,
        "client_address_matches_minor": True, "user_agent_matches_minor": True,
    }  # fmt: skip
    assert data["guardian_address"] == address_hash(os.environ["UGC_GUARD_SECRET"].encode(), "P@example.org")
    assert "p@example.org" not in str(Ledger(harness.ledger_url).entries(campaign="test-campaign").items).lower()


def test_confirmation_from_another_device_is_recorded_as_such(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    accept_form(harness.client(), birth_date=SEVENTEEN, guardian_email="p@example.org")
    assert confirm(harness, headers={"user-agent": "Parent's phone"}).status_code == 200
    checks = sealed_entries(harness)[-1]["data"]["checks"]
    assert checks["user_agent_matches_minor"] is False and checks["address_differs_from_minor"] is None


class _EmailUser:
    """An app user with an e-mail attribute (what many apps' user classes carry)."""

    is_authenticated = True

    def __init__(self, email: str) -> None:
        self.email = email
        self.identity = "user-" + email.split("@")[0]


class _NoIdentityUser(BaseUser):
    """A BaseUser subclass defining only is_authenticated: identity/display_name raise NotImplementedError."""

    @property
    def is_authenticated(self) -> bool:
        return True


class _EmailBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Any] | None:
        email = conn.headers.get("x-email")
        if email == "none":
            return AuthCredentials(["authenticated"]), _NoIdentityUser()
        return (AuthCredentials(["authenticated"]), _EmailUser(email)) if email else None


def test_guardian_address_must_not_be_the_app_users_own(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}, "subject": {"source": "scope-user"}})
    client = TestClient(AuthenticationMiddleware(harness.guard, backend=_EmailBackend()), base_url="http://testserver")
    body = {"terms_version": "1", "accept_terms": True, "birth_date": SEVENTEEN, "guardian_email": "Kid@Example.org"}
    answer = client.post("/ugc-guard/accept", json=body, headers={"x-email": "kid@example.org"})
    assert answer.status_code == 400 and answer.json()["code"] == "invalid-request"
    assert harness.outbox.messages == []
    fine = client.post("/ugc-guard/accept", json={**body, "guardian_email": "parent@example.org"}, headers={"x-email": "kid@example.org"})
    assert fine.status_code == 201
    # the minor's own account opening the link is the minor's own subject
    own = client.get(harness.outbox.path(), headers={"x-email": "kid@example.org", "accept": "application/json"})
    assert own.status_code == 403 and own.json()["code"] == "guardian-self-confirm"
    # a user class without identity is no subject, never a 500
    assert client.get("/ugc-guard/terms", headers={"x-email": "none"}).status_code == 401
