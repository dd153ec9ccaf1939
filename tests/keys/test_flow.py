"""The whole rotation on the real middleware: accept with secret A, restart with [B, A] (the same
visitor keeps their cookie and uploads), ``keys rotate``, restart with [B] only (personal fields
still open; A's cookies no longer name anyone, which is what dropping a secret means)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.pages.conftest import accept_form
from tests.screening.samples import jpeg, upload_form
from ugc_guard import UGCGuard
from ugc_guard.cli import main
from ugc_guard.ledger import Ledger
from ugc_guard.subject import COOKIE_NAME

A, B = "secret-a-" + "a" * 24, "secret-b-" + "b" * 24


async def store(request: Request) -> Response:
    await request.form()
    return JSONResponse({"id": request.state.ugc.id}, status_code=201)


def start(policy: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch, *secrets: str) -> UGCGuard:
    """Start the site as a restarted process would: the policy re-read with these environment values."""
    monkeypatch.setenv("UGC_GUARD_SECRET", secrets[0])
    if len(secrets) > 1:
        monkeypatch.setenv("UGC_GUARD_OLD_SECRET", secrets[1])
    else:
        monkeypatch.delenv("UGC_GUARD_OLD_SECRET", raising=False)
    return UGCGuard(Starlette(routes=[Route("/upload", store, methods=["POST"])]), policy=policy, ledger=ledger_url)


def upload(client: TestClient, seed: int) -> int:
    body, content_type = upload_form(f"photo-{seed}.jpg", "image/jpeg", jpeg((40 + seed, 30 + seed)))
    response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_rotation_end_to_end(policy_file: Callable[..., Path], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = policy_file({"secret": ["${UGC_GUARD_SECRET}", "${UGC_GUARD_OLD_SECRET:-}"], "ledger": {"url": ledger_url}})
    Ledger(ledger_url).upgrade()

    first = TestClient(start(policy, ledger_url, monkeypatch, A), base_url="http://testserver")
    assert accept_form(first).status_code == 303
    cookie = first.cookies[COOKIE_NAME]
    before = upload(first, 0)

    rotated = TestClient(start(policy, ledger_url, monkeypatch, B, A), base_url="http://testserver", cookies={COOKIE_NAME: cookie})
    after = upload(rotated, 1)  # the same visitor: A's cookie is read, their acceptance stands
    export = rotated.get("/ugc-guard/me/export").json()
    assert sorted(item["submission_id"] for item in export["submissions"]) == [before, after]
    subject = export["subject"]

    done = CliRunner().invoke(main, ["keys", "rotate", "--policy", str(policy)], env={"UGC_GUARD_SECRET": B, "UGC_GUARD_OLD_SECRET": A})
    assert (done.exit_code, done.stdout) == (0, "re-wrapped: 1\nalready current: 0\nerased or skipped: 0\n")

    dropped = start(policy, ledger_url, monkeypatch, B)
    stale = TestClient(dropped, base_url="http://testserver", cookies={COOKIE_NAME: cookie})
    refused = stale.get("/ugc-guard/me/export")
    assert (refused.status_code, refused.json()["code"]) == (401, "subject-required")  # A's cookie names nobody now
    body, content_type = upload_form("photo-2.jpg", "image/jpeg", jpeg((60, 50)))
    gated = stale.post("/upload", content=body, headers={"content-type": content_type})
    assert gated.status_code == 403 and gated.json()["code"] == "terms-not-accepted"

    out = tmp_path / "export.json"
    done = CliRunner().invoke(main, ["subject", "export", subject, "--policy", str(policy), "--out", str(out)],
                              env={"UGC_GUARD_SECRET": B, "UGC_GUARD_OLD_SECRET": None})
    assert done.exit_code == 0, done.stderr
    document = json.loads(out.read_text())
    names = sorted(entry["data"]["original_name"] for entry in document["entries"] if entry["kind"] == "submission")
    assert names == ["photo-0.jpg", "photo-1.jpg"]  # sealed under A's wrapped key, opened with B alone after rotate

    fresh = TestClient(dropped, base_url="http://testserver")
    assert accept_form(fresh).status_code == 303
    upload(fresh, 3)
    mine = fresh.get("/ugc-guard/me/export").json()
    assert [entry["data"]["original_name"] for entry in mine["entries"] if entry["kind"] == "submission"] == ["photo-3.jpg"]
    assert mine["subject"] != subject
