"""The whole pipeline on a real ledger: gate, screening, recording, replay, and failing closed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.pages.conftest import accept_form
from tests.screening.samples import jpeg, upload_form
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger

REACHED: list[dict[str, Any]] = []


async def store(request: Request) -> Response:
    submission = request.state.ugc
    form = await request.form()
    data = await form["file"].read()  # type: ignore[union-attr]
    REACHED.append({"id": submission.id, "sha256": submission.sha256, "bytes": hashlib.sha256(data).hexdigest()})
    if form.get("fail") == "yes":
        return JSONResponse({"stored": False}, status_code=500)
    return JSONResponse({"id": submission.id, "receipt": submission.receipt.to_dict()}, status_code=201)


@pytest.fixture
def site(policy_file: Callable[..., Path], ledger_url: str) -> tuple[TestClient, Ledger]:
    REACHED.clear()
    ledger = Ledger(ledger_url, secret="test-secret-" + "x" * 32)
    ledger.upgrade()
    app = Starlette(routes=[Route("/upload", store, methods=["POST"])])
    guard = UGCGuard(app, policy=policy_file({"uploads": {"replay": "original"}}), ledger=ledger_url)
    return TestClient(guard, base_url="http://testserver"), ledger


def test_accepted_upload_is_recorded_with_both_grants_before_the_app_sees_it(site: tuple[TestClient, Ledger]) -> None:
    client, ledger = site
    assert accept_form(client).status_code == 303
    picture = jpeg((80, 60))
    body, content_type = upload_form("me.jpg", "image/jpeg", picture)
    response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 201, response.text
    digest = hashlib.sha256(picture).hexdigest()
    assert REACHED == [{"id": response.json()["id"], "sha256": digest, "bytes": digest}]  # replayed byte-exact

    (record,) = ledger.by_content(digest)
    assert record["status"] == "stored"  # recorded "received" before the app saw it, "stored" once it answered 201
    assert record["submission"].data["content_sha256"] == digest and record["submission"].data["status"] == "received"
    assert record["acceptance"].kind == "terms_acceptance" and record["acceptance"].terms_version == "1"
    licence, portrait, stored = (entry.data for entry in record["entries"])
    assert stored == {"submission_entry": int(response.json()["id"]), "status": "stored", "reason": "the app answered 201"}
    assert licence["licence_id"] == "LicenseRef-test-ugc" and licence["irrevocable"] is True and licence["capacity"] == "self"
    assert set(licence["rights"]) == {"modify", "adapt", "publish", "copy", "display", "republish", "communicate_to_public", "sublicense"}
    assert portrait == {"own_consent": True, "others_declaration": True, "withdrawable": True, "others": "none"}
    assert ledger.verify_receipt(response.json()["receipt"]).ok
    assert ledger.verify().ok


def test_refused_upload_leaves_no_submission(site: tuple[TestClient, Ledger]) -> None:
    client, ledger = site
    accept_form(client)
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg(), grants={"ugc_portrait_self": "accept", "ugc_portrait_others": "none"})
    response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 403 and response.json()["code"] == "licence-not-granted"
    assert REACHED == [] and ledger.submissions().items == []


def test_upload_before_accepting_is_gated_and_not_recorded(site: tuple[TestClient, Ledger]) -> None:
    client, ledger = site
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg())
    response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 403 and response.json()["code"] == "terms-not-accepted"
    assert REACHED == [] and ledger.submissions().items == []


def test_app_failure_marks_the_submission_not_stored(site: tuple[TestClient, Ledger]) -> None:
    client, ledger = site
    accept_form(client)
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg(), grants={
        "ugc_licence": "accept", "ugc_portrait_self": "accept", "ugc_portrait_others": "all-consented", "fail": "yes",
    })
    response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 500
    (submission,) = ledger.submissions(status="not stored").items
    assert str(submission.id) == REACHED[0]["id"]


def test_ledger_down_after_acceptance_refuses_with_503_and_the_app_never_runs(
    policy_file: Callable[..., Path], postgres_url: str
) -> None:
    import psycopg

    REACHED.clear()
    Ledger(postgres_url).upgrade()
    app = Starlette(routes=[Route("/upload", store, methods=["POST"])])
    client = TestClient(UGCGuard(app, policy=policy_file(), ledger=postgres_url), base_url="http://testserver")
    accept_form(client)  # the gate caches this subject's status for a few seconds
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg())
    response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 503 and response.json()["code"] == "ledger-unavailable"
    assert REACHED == []


def test_a_minors_upload_records_the_licence_as_granted_with_guardian_consent(
    policy_file: Callable[..., Path], sqlite_url: str
) -> None:
    from tests.pages.conftest import Harness, Outbox
    from tests.pages.test_guardian import SEVENTEEN, confirm
    from ugc_guard.pages import set_notifier

    REACHED.clear()
    ledger = Ledger(sqlite_url, secret="test-secret-" + "x" * 32)
    ledger.upgrade()
    app = Starlette(routes=[Route("/upload", store, methods=["POST"])])
    guard = UGCGuard(app, policy=policy_file({"age": {"guardian_minimum": 16}}), ledger=sqlite_url)
    outbox = Outbox()
    set_notifier(guard, outbox)
    minor = TestClient(guard, base_url="http://testserver")
    assert accept_form(minor, birth_date=SEVENTEEN, guardian_email="parent@example.org").status_code == 303
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg())
    pending = minor.post("/upload", content=body, headers={"content-type": content_type})
    assert pending.status_code == 403 and pending.json()["code"] == "guardian-consent-pending"
    assert confirm(Harness(guard, outbox, sqlite_url)).status_code == 200
    response = minor.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 201, response.text
    (submission,) = ledger.submissions().items
    licence = ledger.grants(submission.id)[1]
    assert licence.kind == "licence_grant" and licence.data["capacity"] == "guardian"
