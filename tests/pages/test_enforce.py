"""The upload gate: every body-carrying method and every path spelling is gated, mounts included."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from .conftest import Harness, accept_form

VARIANTS = [
    "/upload", "/upload/", "/UPLOAD", "/Upload/", "/%75pload", "/./upload", "/x/../upload",
    "/raw/a", "/RAW/a/", "/raw/%61", "/raw/x/../a", "/upload?x=1",
]  # fmt: skip
# Spellings that only make sense as a trick are refused before the gate (issue 17): 400 bad-path.
# (The test client resolves "/./" and "/x/../" itself; tests/security/test_paths.py sends them raw.)
AMBIGUOUS = ["/%2575pload", "//upload", "/upload//", "/upload;x=1", "/raw//a", "/%2e/upload", "/a/%2e%2e/upload"]


@pytest.mark.parametrize("path", VARIANTS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_no_variant_reaches_the_app(make_harness: Callable[..., Harness], path: str, method: str) -> None:
    answer = make_harness().client().request(method, "http://testserver" + path, content=b"payload")
    assert answer.status_code == 403, (method, path, answer.text)
    assert answer.json()["code"] == "terms-not-accepted"
    assert answer.json()["accept_url"] == "http://testserver/ugc-guard/terms"


@pytest.mark.parametrize("path", AMBIGUOUS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_ambiguous_variants_are_refused(make_harness: Callable[..., Harness], path: str, method: str) -> None:
    answer = make_harness().client().request(method, "http://testserver" + path, content=b"payload")
    assert answer.status_code == 400, (method, path, answer.text)
    assert answer.json()["code"] == "bad-path"


def test_safe_methods_pass(make_harness: Callable[..., Harness]) -> None:
    client = make_harness().client()
    assert client.get("/").status_code == 200
    assert client.get("/upload").status_code == 405  # the app's own answer: the gate let it through


def test_browser_is_sent_to_the_terms_page_with_next(make_harness: Callable[..., Harness]) -> None:
    client = make_harness().client()
    headers = {"accept": "text/html,application/xhtml+xml", "referer": "http://testserver/entry?step=2"}
    answer = client.post("/upload", content=b"x", headers=headers, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ugc-guard/terms?next=/entry%3Fstep%3D2"
    foreign = client.post("/upload", content=b"x", headers={**headers, "referer": "https://evil.example/"}, follow_redirects=False)
    assert foreign.headers["location"] == "/ugc-guard/terms?next=/"
    page = client.get(answer.headers["location"])
    assert 'name="next" value="/entry?step=2"' in page.text


def test_tampered_and_foreign_cookies_are_no_subject(make_harness: Callable[..., Harness], policy_file: Callable[..., object]) -> None:
    harness = make_harness()
    client = harness.client()
    accept_form(client)
    value = client.cookies["ugc_guard_subject"]
    tampered = harness.client(cookies={"ugc_guard_subject": value[:-2] + ("AA" if not value.endswith("AA") else "BB")})
    assert tampered.post("/upload", content=b"x").status_code == 403
    other = make_harness({"campaign": {"id": "other-campaign"}}, ledger_url=harness.ledger_url)
    assert other.client(cookies={"ugc_guard_subject": value}).post("/upload", content=b"x").json()["code"] == "terms-not-accepted"
    assert harness.client(cookies={"ugc_guard_subject": value}).post("/upload", content=b"x").status_code == 200


def test_subject_cookie_flags(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    plain = harness.client().get("/ugc-guard/terms").headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Path=/" in plain and "Secure" not in plain
    secure = TestClient(harness.guard, base_url="https://testserver").get("/ugc-guard/terms").headers["set-cookie"]
    assert "Secure" in secure
    assert "set-cookie" not in harness.client().get("/").headers  # not made for every visitor
    assert "set-cookie" not in harness.client().get("/ugc-guard/status").headers


def test_starlette_mount(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    outer = Starlette(routes=[Mount("/campaign", app=harness.guard)])
    client = TestClient(outer, base_url="http://testserver")
    for path in ("/campaign/upload", "/campaign/UPLOAD/", "/campaign/%75pload", "/campaign/x/../upload"):
        answer = client.post(path, content=b"x", headers={"accept": "text/html"}, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/campaign/ugc-guard/terms?next=/campaign/"
    page = client.get("/campaign/ugc-guard/terms")
    assert 'action="/campaign/ugc-guard/accept"' in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    data = {
        "csrf_token": token,
        "terms_version": "1",
        "next": "/campaign/",
        "birth_date": "1990-01-01",
        "accept_terms": "yes",
        "accept_licence": "yes",
    }
    accepted = client.post("/campaign/ugc-guard/accept", data=data, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/campaign/"
    assert client.post("/campaign/upload", content=b"x").status_code == 200


@pytest.mark.parametrize("path", ["/campaign/upload", "/upload", "/campaign/Upload/"])
def test_uvicorn_style_root_path(make_harness: Callable[..., Harness], path: str) -> None:
    # uvicorn --root-path gives the app a path with or without the prefix depending on the proxy.
    harness = make_harness()
    client = TestClient(harness.guard, base_url="http://testserver", root_path="/campaign")
    answer = client.post(path, content=b"x")
    assert answer.status_code == 403 and answer.json()["accept_url"] == "http://testserver/campaign/ugc-guard/terms"


def test_api_codes_follow_the_missing_step(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}})
    client = harness.client()
    assert client.post("/upload", content=b"x").json()["code"] == "terms-not-accepted"
    import datetime as dt

    seventeen = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()
    accept_form(client, birth_date=seventeen, guardian_email="parent@example.org")
    refusal = client.post("/upload", content=b"x").json()
    assert refusal["code"] == "guardian-consent-pending" and refusal["missing"] == ["guardian-consent"]
