"""Accepting the terms through the real middleware and ledger: the happy paths and every bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from ugc_guard.ledger import Ledger

from .conftest import MINOR_POLICY, Harness, accept_form, terms_form


def entries(harness: Harness) -> list[Any]:
    return Ledger(harness.ledger_url).entries(campaign="test-campaign").items


def test_adult_accepts_and_uploads(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    client = harness.client()
    assert client.post("/upload", content=b"x").status_code == 403
    answer = accept_form(client)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    status = client.get("/ugc-guard/status").json()
    assert status["missing"] == [] and status["terms_current"] is True and status["age_band"] == "18+"
    reached = client.post("/upload", content=b"hello")
    assert reached.status_code == 200 and reached.json()["reached_app"] is True
    kinds = [entry.kind for entry in entries(harness)]
    assert kinds == ["age_result", "terms_acceptance"]
    acceptance = entries(harness)[1].as_dict()
    text = str(acceptance)
    assert "1990" not in text  # the birth date is never recorded
    page = client.get("/ugc-guard/terms")
    assert 'id="receipt"' in page.text and status["receipt_id"] in page.text


def test_acceptance_records_text_hash_language_method_and_digest(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    client = harness.client()
    accept_form(client, lang="nl")
    acceptance = entries(harness)[1].as_dict()
    policy = harness.gate.policy
    flat = str(acceptance)
    assert policy.terms.texts["nl"].sha256 in flat and policy.licence.texts["nl"].sha256 in flat
    assert "click-wrap:unticked-checkbox" in flat and harness.gate.policy_digest in flat and "'nl'" in flat


def test_json_accept(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    client = harness.client()
    body = {"terms_version": "1", "accept_terms": True, "birth_date": "1990-01-01"}
    answer = client.post("/ugc-guard/accept", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"]["missing"] == [] and answer.json()["receipt"]["entry_id"]
    assert "ugc_guard_subject=" in answer.headers["set-cookie"]  # a subject is made on accept
    assert client.post("/upload", content=b"x").status_code == 200


def test_json_needs_json_content_type_and_same_origin(make_harness: Callable[..., Harness]) -> None:
    client = make_harness().client()
    body = '{"terms_version": "1", "accept_terms": true, "birth_date": "1990-01-01"}'
    assert client.post("/ugc-guard/accept", content=body, headers={"content-type": "text/plain"}).status_code == 415
    cross = client.post("/ugc-guard/accept", content=body, headers={"content-type": "application/json", "origin": "https://evil.example"})
    assert cross.status_code == 403 and cross.json()["code"] == "csrf-failed"
    fetched = client.post("/ugc-guard/accept", content=body, headers={"content-type": "application/json", "sec-fetch-site": "cross-site"})
    assert fetched.status_code == 403
    same = client.post("/ugc-guard/accept", content=body, headers={"content-type": "application/json", "origin": "http://testserver"})
    assert same.status_code == 201


def test_form_without_valid_token_is_refused(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    client = harness.client()
    terms_form(client)
    data = {"csrf_token": "forged", "terms_version": "1", "birth_date": "1990-01-01", "accept_terms": "yes", "accept_licence": "yes"}
    answer = client.post("/ugc-guard/accept", data=data, follow_redirects=False)
    assert answer.status_code == 403 and "expired" in answer.text
    other = harness.client()  # a token made for another subject
    data["csrf_token"] = terms_form(other)
    assert client.post("/ugc-guard/accept", data=data, follow_redirects=False).status_code == 403
    assert entries(harness) == []


@pytest.mark.parametrize(
    ("birth_date", "status", "code"),
    [
        ("2999-01-01", 422, "birth-date-invalid"),
        ("2026-02-30", 422, "birth-date-invalid"),
        ("01/02/1990", 422, "birth-date-invalid"),
        ("not a date", 422, "birth-date-invalid"),
    ],
)
def test_bad_birth_dates_record_nothing(make_harness: Callable[..., Harness], birth_date: str, status: int, code: str) -> None:
    harness = make_harness()
    client = harness.client()
    assert accept_form(client, birth_date=birth_date).status_code == status
    answer = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "birth_date": birth_date})
    assert answer.status_code == status and answer.json()["code"] == code
    assert entries(harness) == []


def test_below_minimum_keeps_only_a_counter(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    client = harness.client()
    fifteen = (dt.date.today() - dt.timedelta(days=15 * 366)).isoformat()
    page = accept_form(client, birth_date=fifteen)
    assert page.status_code == 403 and "aged 16 or older" in page.text and "Nothing about you was recorded." in page.text
    assert '<a href="/" id="back">Back to Test Campaign</a>' in page.text  # not a dead end
    answer = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "birth_date": fifteen})
    assert answer.status_code == 403 and answer.json()["code"] == "age-below-minimum"
    assert entries(harness) == []
    assert harness.gate.refusals["age-below-minimum"] == 2


def test_minor_refused_where_policy_allows_no_minors(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    seventeen = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()
    answer = harness.client().post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "birth_date": seventeen})
    assert answer.status_code == 403 and answer.json()["code"] == "age-below-minimum"


@pytest.mark.parametrize("version", ["0", "2", "../1", ""])
def test_old_or_unknown_version_refused(make_harness: Callable[..., Harness], version: str) -> None:
    harness = make_harness()
    client = harness.client()
    assert accept_form(client, terms_version=version).status_code == 409
    answer = client.post("/ugc-guard/accept", json={"terms_version": version, "accept_terms": True, "birth_date": "1990-01-01"})
    assert answer.status_code == 409 and answer.json()["code"] == "terms-version-mismatch"
    assert entries(harness) == []


def test_unticked_boxes_refused(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    client = harness.client()
    assert accept_form(client, accept_licence="").status_code == 400
    assert accept_form(client, accept_terms="no").status_code == 400
    answer = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": False, "birth_date": "1990-01-01"})
    assert answer.status_code == 400
    assert entries(harness) == []


@pytest.mark.parametrize("value", ["//evil.example/x", "https://evil.example", "/\\evil.example", "/x\r\nX: y", "/%2F%2Fevil"])
def test_open_redirect_next_falls_back(make_harness: Callable[..., Harness], value: str) -> None:
    answer = accept_form(make_harness().client(), next=value)
    assert answer.status_code == 303 and answer.headers["location"] == "/ugc-guard/terms"


def test_oversized_and_malformed_posts(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    client = harness.client()
    token = terms_form(client)
    big = client.post("/ugc-guard/accept", content=b"a=" + b"x" * 70_000, headers={"content-type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413 and big.json()["code"] == "form-too-large"

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(70):
            yield b"x" * 1024

    streamed = client.post("/ugc-guard/accept", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413
    for body in (b"\xff\xfe=1", b"a=1&a=2", b"&&&", "&".join(f"f{i}=1" for i in range(40)).encode()):
        answer = client.post("/ugc-guard/accept", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 400, body
    for body in (b"{", b"[1]", b'{"terms_version": 1}', b'{"terms_version": "1", "accept_terms": "yes"}'):
        answer = client.post("/ugc-guard/accept", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400, body
    multipart = client.post("/ugc-guard/accept", data={"csrf_token": token}, files={"f": ("a", b"b")})
    assert multipart.status_code == 415
    assert client.get("/ugc-guard/accept").status_code == 405
    assert entries(harness) == []


def test_new_terms_version_needs_new_acceptance(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness()
    client = harness.client()
    accept_form(client)
    cookies = dict(client.cookies)
    for overrides, expected in (
        ({"terms": {"version": "2"}}, 403),
        ({"terms": {"version": "1.1", "requires_reacceptance": False, "keeps_acceptances_of": ["1"]}}, 200),
    ):
        revised = make_harness(overrides, ledger_url=harness.ledger_url)
        revised_client = revised.client(cookies=cookies)
        answer = revised_client.post("/upload", content=b"x")
        assert answer.status_code == expected, overrides
        if expected == 403:
            assert answer.json()["code"] == "terms-outdated"
            assert "changed" in revised_client.get("/ugc-guard/terms").text


def test_ledger_down_fails_closed(make_harness: Callable[..., Harness], tmp_path: Any) -> None:
    harness = make_harness()
    client = harness.client()
    accept_form(client)
    broken = make_harness(ledger_url=f"sqlite:///{tmp_path}/missing/dir/x.sqlite3", upgrade=False)  # a file that cannot be opened
    down = broken.client(cookies=dict(client.cookies))
    answer = down.post("/upload", content=b"x")
    assert answer.status_code == 503 and answer.json()["code"] == "ledger-unavailable"
    assert down.get("/ugc-guard/status").status_code == 503
