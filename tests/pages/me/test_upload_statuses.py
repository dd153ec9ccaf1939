"""What the ledger, ``/me`` and the export say about an upload, by what the app answered.

``received`` before the app sees it; ``stored`` only after a 2xx, confirmed before the client sees
that answer; ``not stored`` for anything else; ``not stored (unconfirmed)`` for what a dead worker
left. Through the real middleware on a real ledger, with an app whose answer the test chooses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jsonschema
import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from tests.pages.conftest import accept_form
from tests.pages.me.conftest import SECRET
from tests.screening.samples import GRANTS, jpeg, multipart, upload_form
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger
from ugc_guard.pages.export import export_schema

REPO = Path(__file__).resolve().parents[3]
CAMPAIGN = "test-campaign"
UNCONFIRMED = "not stored (unconfirmed)"


@dataclass
class App:
    """The app behind the guard: answers as ``?answer=`` says (201, 303, 422, 500, raise, lock)."""

    ledger_url: str

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        answer = parse_qs(scope["query_string"].decode()).get("answer", ["201"])[0]
        submission = scope["state"]["ugc"]
        if answer == "raise":
            raise RuntimeError("the app fell over")
        status = 201 if answer == "lock" else int(answer)
        headers = [(b"content-type", b"application/json")] + ([(b"location", b"/thanks")] if status == 303 else [])
        body = json.dumps({"id": submission.id, "stored": status < 300}).encode()
        lock = self._hold_ledger() if answer == "lock" else None
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            if lock is not None:
                lock.rollback()
                lock.close()

    def _hold_ledger(self) -> Any:
        """Another writer holds the campaign's chain while the app answers: the confirmation cannot be recorded."""
        if self.ledger_url.startswith("sqlite"):
            lock = sqlite3.connect(self.ledger_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
            lock.execute("BEGIN EXCLUSIVE")
            return lock
        import psycopg

        lock = psycopg.connect(self.ledger_url.replace("postgresql+psycopg://", "postgresql://"))
        lock.execute("SELECT 1 FROM ledger_chain_heads WHERE campaign = %s FOR UPDATE", (CAMPAIGN,))
        return lock


@dataclass
class Site:
    guard: UGCGuard
    ledger: Ledger
    url: str

    def person(self) -> TestClient:
        client = TestClient(self.guard, base_url="http://testserver", raise_server_exceptions=False)
        assert accept_form(client).status_code == 303
        return client

    def upload(self, client: TestClient, answer: str = "201", seed: int = 0) -> Any:
        body, content_type = upload_form(f"photo-{seed}.jpg", "image/jpeg", jpeg((40 + seed, 30 + seed)))
        return client.post(f"/upload?answer={answer}", content=body, headers={"content-type": content_type,
                                                                                  "accept": "application/json"})

    def export(self, client: TestClient) -> dict[str, Any]:
        response = client.get("/ugc-guard/me/export")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        jsonschema.validate(document, export_schema())
        return document

    def status_entries(self, submission_id: int) -> list[tuple[str, str | None]]:
        return [(e.data["status"], e.data.get("reason")) for e in self.ledger.grants(submission_id) if e.kind == "submission_status"]


@pytest.fixture
def make_site(policy_file: Callable[..., Path], ledger_url: str) -> Callable[..., Site]:
    def build(overrides: dict[str, Any] | None = None) -> Site:
        ledger = Ledger(ledger_url, secret=SECRET)
        ledger.upgrade()
        guard = UGCGuard(App(ledger_url), policy=policy_file({"uploads": {"replay": "original"}, **(overrides or {})}), ledger=ledger_url)
        return Site(guard, ledger, ledger_url)

    return build


def only_submission(site: Site, client: TestClient) -> dict[str, Any]:
    (item,) = site.export(client)["submissions"]
    return item


def test_a_201_is_stored_before_the_client_sees_it_and_me_says_so(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice = site.person()
    response = site.upload(alice)
    assert response.status_code == 201
    sid = int(response.json()["id"])
    assert site.status_entries(sid) == [("stored", "the app answered 201")]
    item = only_submission(site, alice)
    assert (item["submission_id"], item["status"], item["status_reason"]) == (sid, "stored", "the app answered 201")
    assert item["licence_grant"]["irrevocable"] is True and item["portrait_grant"]["own_consent"] is True
    page = alice.get("/ugc-guard/me", headers={"accept-language": "en"})
    assert page.status_code == 200 and "<td>stored</td>" in page.text
    assert site.ledger.verify().ok


@pytest.mark.parametrize(("answer", "client_sees"), [("303", 303), ("422", 422), ("500", 500), ("raise", 500)])
def test_any_other_answer_is_not_stored(make_site: Callable[..., Site], answer: str, client_sees: int) -> None:
    site = make_site()
    alice = site.person()
    response = alice.post(f"/upload?answer={answer}", content=(form := upload_form("p.jpg", "image/jpeg", jpeg()))[0],
                          headers={"content-type": form[1]}, follow_redirects=False)
    assert response.status_code == client_sees
    item = only_submission(site, alice)
    reason = "the app raised an error or sent no answer" if answer == "raise" else f"the app answered {answer}"
    assert (item["status"], item["status_reason"]) == ("not stored", reason)
    assert site.status_entries(item["submission_id"]) == [("not stored", reason)]
    assert item["licence_grant"] is not None and item["portrait_grant"] is not None  # the grants were made
    assert "<td>not stored</td>" in alice.get("/ugc-guard/me", headers={"accept-language": "en"}).text
    assert site.ledger.submissions(status="stored").items == []


def test_every_file_of_a_multi_file_upload_is_stored_in_one_confirmation(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice = site.person()
    fields = [(name, None, None, value.encode()) for name, value in GRANTS.items()]
    body, content_type = multipart([("a", "a.jpg", "image/jpeg", jpeg((41, 31))), ("b", "b.jpg", "image/jpeg", jpeg((42, 32))),
                                    *fields])
    response = alice.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 201
    items = site.export(alice)["submissions"]
    assert [item["status"] for item in items] == ["stored", "stored"]
    ids = [item["submission_id"] for item in items]
    confirmations = [e for e in site.ledger.history(site.ledger.grants(ids[0])[0].subject or "").items if e.kind == "submission_status"]
    assert [e.ref for e in confirmations] == ids and len({e.recorded_at for e in confirmations}) == 1  # one transaction


def test_a_ledger_that_cannot_confirm_turns_the_apps_201_into_503_and_the_upload_stays_received(
    make_site: Callable[..., Site],
) -> None:
    site = make_site({"ledger": {"connect_timeout": 0.3}})
    alice = site.person()
    response = site.upload(alice, "lock")
    assert response.status_code == 503 and response.json()["code"] == "ledger-unavailable"
    assert "does not count as stored" in response.json()["detail"] and "stored" not in response.headers.get("location", "")
    item = only_submission(site, alice)
    assert item["status"] == "received" and site.status_entries(item["submission_id"]) == []
    assert "<td>received</td>" in alice.get("/ugc-guard/me", headers={"accept-language": "en"}).text
    # the recording worker still runs, so only age lets a sweep claim it (the retention run does this by the policy's period)
    assert site.ledger.sweep_unconfirmed(CAMPAIGN, older_than=dt.timedelta(minutes=15)) == []
    assert site.ledger.sweep_unconfirmed(CAMPAIGN, older_than=dt.timedelta(0)) == [item["submission_id"]]
    item = only_submission(site, alice)
    assert (item["status"], item["status_reason"]) == (UNCONFIRMED, "no answer from the app was confirmed within 0 s of recording")
    assert f"<td>{UNCONFIRMED}</td>" in alice.get("/ugc-guard/me", headers={"accept-language": "en"}).text
    assert "<td>niet opgeslagen (onbevestigd)</td>" in alice.get("/ugc-guard/me?lang=nl").text


def test_a_restarted_worker_marks_what_a_killed_one_left_at_its_first_upload(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice = site.person()
    document = site.export(alice)
    subject, acceptance = document["subject"], document["acceptances"][0]["entry_id"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger._workers", "record", site.url, str(acceptance), CAMPAIGN, subject, SECRET],
        cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert worker.stdout is not None
        phantom = int(worker.stdout.readline())  # recorded, and the app never answered
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert only_submission(site, alice)["status"] == "received"

    restarted = make_site()  # a new worker process's middleware on the same ledger
    client = TestClient(restarted.guard, base_url="http://testserver", cookies=alice.cookies)
    response = restarted.upload(client, seed=3)
    assert response.status_code == 201
    items = {item["submission_id"]: item for item in restarted.export(client)["submissions"]}
    assert items[phantom]["status"] == UNCONFIRMED
    assert items[phantom]["status_reason"] == "the worker process that recorded it stopped before the app's answer was confirmed"
    assert items[int(response.json()["id"])]["status"] == "stored"
    assert f"<td>{UNCONFIRMED}</td>" in client.get("/ugc-guard/me", headers={"accept-language": "en"}).text
    listed = restarted.ledger.submissions(status=UNCONFIRMED).items
    assert [(v.id, v.status, v.current_status) for v in listed] == [(phantom, "received", UNCONFIRMED)]
    assert hashlib.sha256(b"killed-mid-request").hexdigest() == listed[0].content_sha256
    assert restarted.ledger.verify().ok
