"""The terms page itself: languages, accessible structure, age as the policy asks, scope-user subjects, SMTP mail."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.authentication import AuthCredentials, AuthenticationBackend, SimpleUser
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection

from ugc_guard.pages.notifier import GuardianMessage, SmtpNotifier
from ugc_guard.policy.models import SmtpNotifier as SmtpSettings

from .conftest import Harness, terms_form


def test_language_negotiation(make_harness: Callable[..., Harness]) -> None:
    client = make_harness().client()
    assert '<html lang="nl">' in client.get("/ugc-guard/terms", headers={"accept-language": "nl-NL,nl;q=0.9"}).text
    assert '<html lang="en">' in client.get("/ugc-guard/terms", headers={"accept-language": "de"}).text
    page = client.get("/ugc-guard/terms?lang=nl", headers={"accept-language": "en"}).text
    assert '<html lang="nl">' in page and "Testvoorwaarden" in page and "Wereldwijd" in page


def test_accessible_structure(make_harness: Callable[..., Harness]) -> None:
    page = make_harness({"age": {"guardian_minimum": 16}}).client().get("/ugc-guard/terms").text
    assert page.count("<fieldset") == 4 and page.count("<legend>") == 4  # the date of birth is a group of its own
    for field in ("birth_day", "birth_month", "birth_year", "guardian_email"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page
    assert 'aria-describedby="birth_date_hint"' in page and 'type="date"' not in page  # three fields, the same in every browser
    boxes = re.findall(r"<input type=\"checkbox\"[^>]*>", page)
    assert len(boxes) == 2 and not any("checked" in box for box in boxes)
    assert ":focus-visible" in page and "<script" not in page  # works without JavaScript
    assert 'name="tdm-reservation" content="1"' in page


def test_age_band_method(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"method": "age_band", "guardian_minimum": 16}})
    client = harness.client()
    page = client.get("/ugc-guard/terms").text
    assert re.findall(r'name="age_band" id="age_band_[0-9]" value="([^"]+)"', page) == ["18+", "16-17", "under-16"]
    data = {"csrf_token": terms_form(client), "terms_version": "1", "age_band": "18+", "accept_terms": "yes", "accept_licence": "yes"}
    assert client.post("/ugc-guard/accept", data=data, follow_redirects=False).status_code == 303
    assert client.get("/ugc-guard/status").json()["age_band"] == "18+"
    assert client.post("/ugc-guard/accept", data={**data, "age_band": "under-16"}, follow_redirects=False).status_code == 403


class HeaderUser(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        name = conn.headers.get("x-user")
        return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None


def test_scope_user_subject(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"subject": {"source": "scope-user"}})
    app = AuthenticationMiddleware(harness.guard, backend=HeaderUser())
    from starlette.testclient import TestClient

    client = TestClient(app, base_url="http://testserver")
    assert client.get("/ugc-guard/terms").status_code == 401  # anonymous: no subject, no cookie
    body = {"terms_version": "1", "accept_terms": True, "birth_date": "1990-01-01"}
    answer = client.post("/ugc-guard/accept", json=body, headers={"x-user": "alice"})
    assert answer.status_code == 201 and "set-cookie" not in answer.headers
    assert client.post("/upload", content=b"x", headers={"x-user": "alice"}).status_code == 200
    assert client.post("/upload", content=b"x", headers={"x-user": "bob"}).status_code == 403


def test_smtp_message() -> None:
    notifier = SmtpNotifier(SmtpSettings(host="mail.example", sender="noreply@example.org"))
    message = GuardianMessage(
        "parent@example.org", "https://x.example/ugc-guard/guardian/confirm?token=abc", "Casting", "nl", "2026-01-01T00:00:00+00:00"
    )
    email = notifier.build(message)
    assert email["To"] == "parent@example.org" and "Casting" in email["Subject"]
    assert "token=abc" in email.get_content() and "één keer" in email.get_content()
    assert email["Subject"] == "Bevestig de deelname aan Casting"
    assert "De link werkt één keer, tot 1 januari 2026, 00:00:00 UTC." in email.get_content()  # from the catalog, a readable time
