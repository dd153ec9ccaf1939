"""Rights endpoints under ``{prefix}/me``: nobody reaches another subject's data or changes it by guessing
ids, no GET/HEAD/OPTIONS changes anything, cross-site posts are refused, a withdrawn or erased subject's
cookie gets no more than it should, and ``/me`` tells the truth about uploads nobody confirmed.

Each case asserts the exact status and problem ``code`` and that the ledger did not change by mistake
(``Site.entries()``) and the app saw nothing it should not have.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ugc_guard.ledger import Ledger
from ugc_guard.pages.subjects import erase_subject

from .conftest import GRANTS, Site, accept, jpeg

REPO = Path(__file__).resolve().parents[2]
CAMPAIGN = "test-campaign"
SECRET = os.environ["UGC_GUARD_SECRET"]
ME, EXPORT, WITHDRAW = "/ugc-guard/me", "/ugc-guard/me/export", "/ugc-guard/me/withdraw"
UNCONFIRMED = "not stored (unconfirmed)"


def person(site: Site) -> TestClient:
    client = site.client()
    assert accept(client).status_code == 303
    return client


def upload(site: Site, client: TestClient, seed: int = 0) -> int:
    """Upload a distinct real JPEG; return its submission id."""
    files = {"file": (f"p{seed}.jpg", jpeg((40 + seed, 30 + seed)), "image/jpeg")}
    answer = client.post("/upload", files=files, data=GRANTS)
    assert answer.status_code == 201, answer.text
    return int(site.spy.calls[-1]["ugc"].id)


def export(client: TestClient) -> dict[str, Any]:
    answer = client.get(EXPORT)
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def statuses(site: Site, subject: str) -> dict[int, str]:
    ledger = Ledger(site.ledger_url, secret=SECRET)
    try:
        return {sid: item["status"] for sid, item in ledger.subject_submissions(CAMPAIGN, subject).items()}
    finally:
        ledger.close()


def token(client: TestClient) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(ME).text)
    assert match is not None
    return match.group(1)


@pytest.fixture
def two(make_site: Callable[..., Site]) -> tuple[Site, TestClient, TestClient, list[int], list[int]]:
    """A site where Alice and Bob each uploaded two files."""
    site = make_site()
    alice, bob = person(site), person(site)
    return site, alice, bob, [upload(site, alice, n) for n in (1, 2)], [upload(site, bob, n) for n in (3, 4)]


# -- IDOR: another subject's submissions, receipts and export -----------------------------------


@pytest.mark.parametrize("query", ["subject={bob}", "id={bob_id}", "submission={bob_id}", "subject={bob}&campaign=test-campaign",
                                   "entry={bob_id}&format=json"])
def test_export_is_always_the_cookies_own_whatever_the_query_names(two: Any, query: str) -> None:
    _site, alice, bob, alice_ids, bob_ids = two
    bob_subject, alice_subject = export(bob)["subject"], export(alice)["subject"]
    answer = alice.get(f"{EXPORT}?{query.format(bob=bob_subject, bob_id=bob_ids[0])}")
    assert answer.status_code == 200
    document = answer.json()
    assert document["subject"] == alice_subject and [s["submission_id"] for s in document["submissions"]] == alice_ids
    assert bob_subject not in answer.text and all(f'"id": {sid},' not in answer.text for sid in bob_ids)
    page = alice.get(f"{ME}?{query.format(bob=bob_subject, bob_id=bob_ids[0])}")
    assert page.status_code == 200 and bob_subject not in page.text


@pytest.mark.parametrize("path", [f"{EXPORT}/{{bob_id}}", f"{EXPORT}/{{bob}}", f"{ME}/{{bob}}", f"{ME}/receipts/{{bob_id}}",
                                  f"{ME}/submissions/{{bob_id}}"])
def test_guessed_paths_under_me_are_not_found(two: Any, path: str) -> None:
    site, alice, bob, _, bob_ids = two
    target = path.format(bob=export(bob)["subject"], bob_id=bob_ids[0])
    before = site.entries()
    answer = alice.get(target)
    assert (answer.status_code, answer.json()["code"]) == (404, "not-found")
    assert site.entries() == before


@pytest.mark.parametrize("target", ["{bob_id}", "999999", "123456789012345678"])
def test_withdrawing_anothers_or_an_unknown_submission_is_the_same_404(two: Any, target: str) -> None:
    site, alice, bob, _alice_ids, bob_ids = two
    bob_subject = export(bob)["subject"]
    before, bob_before = site.entries(), statuses(site, bob_subject)
    answer = alice.post(WITHDRAW, json={"scope": "portrait", "submission": target.format(bob_id=bob_ids[0])})
    assert (answer.status_code, answer.json()["code"]) == (404, "not-found")
    assert answer.json()["detail"] == "you have no submission with this id"  # the same words whether it exists or not
    assert site.entries() == before and statuses(site, bob_subject) == bob_before == dict.fromkeys(bob_ids, "stored")


@pytest.mark.parametrize("target", ["0", "-1", "1e3", "0x10", " 1", "1.0", "", "all ", "1234567890123456789012", True, [1], {"id": 1}, None])
def test_malformed_submission_ids_are_400_and_change_nothing(two: Any, target: Any) -> None:
    site, alice, *_ = two
    before = site.entries()
    answer = alice.post(WITHDRAW, json={"scope": "portrait", "submission": target})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid-request")
    assert site.entries() == before


def test_a_cookie_carrying_someone_elses_pseudonym_unsigned_is_no_subject(two: Any) -> None:
    site, _alice, bob, _, _bob_ids = two
    bob_subject = export(bob)["subject"]
    forger = site.client()
    forger.cookies.set("ugc_guard_subject", bob_subject)
    before = site.entries()
    assert (forger.get(EXPORT).status_code, forger.get(EXPORT).json()["code"]) == (401, "subject-required")
    answer = forger.post(WITHDRAW, json={"scope": "processing"})
    assert (answer.status_code, answer.json()["code"]) == (401, "subject-required")
    assert site.entries() == before and set(statuses(site, bob_subject).values()) == {"stored"}


# -- no side effects without a POST -------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"])
def test_withdraw_only_by_post(two: Any, method: str) -> None:
    site, alice, _, alice_ids, _ = two
    subject = export(alice)["subject"]
    before = site.entries()
    answer = alice.request(method, f"{WITHDRAW}?scope=processing&submission=all", headers={"content-type": "application/json"},
                           content=b'{"scope": "processing"}' if method not in ("GET", "HEAD") else None)
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    if method != "HEAD":
        assert answer.json()["code"] == "method-not-allowed"
    assert site.entries() == before and statuses(site, subject) == dict.fromkeys(alice_ids, "stored")
    assert alice.get("/ugc-guard/status").json()["accepted_terms_version"] == "1"


@pytest.mark.parametrize("path", [ME, EXPORT])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reading_the_page_or_export_records_nothing(two: Any, path: str, method: str) -> None:
    site, alice, *_ = two
    before, reached = site.entries(), site.reached()
    for _ in range(3):
        answer = alice.request(method, f"{path}?scope=processing&submission=all&done=processing")
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert site.entries() == before and site.reached() == reached


@pytest.mark.parametrize("path", [ME, EXPORT])
def test_options_put_and_delete_on_the_page_and_export_are_405(two: Any, path: str) -> None:
    site, alice, *_ = two
    before = site.entries()
    for method in ("OPTIONS", "POST", "PUT", "DELETE"):
        answer = alice.request(method, path)
        assert (answer.status_code, answer.json()["code"], answer.headers["allow"]) == (405, "method-not-allowed", "GET, HEAD")
    assert site.entries() == before


# -- cross-site posts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"origin": "https://evil.example"}, {"origin": "null"}, {"origin": "http://testserver.evil.example"},
     {"origin": "http://testserver@evil.example"}, {"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"},
     {"sec-fetch-site": "cross-site", "origin": "http://testserver"}],
)  # fmt: skip
def test_cross_site_json_withdrawal_is_refused(two: Any, headers: dict[str, str]) -> None:
    site, alice, _, alice_ids, _ = two
    before = site.entries()
    answer = alice.post(WITHDRAW, json={"scope": "processing"}, headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (403, "csrf-failed")
    assert site.entries() == before and statuses(site, export(alice)["subject"]) == dict.fromkeys(alice_ids, "stored")


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", "application/json-patch+json",
                                          "application/x-www-form-urlencoded-evil", None])
def test_bodies_a_cross_site_page_can_send_without_preflight_are_415(two: Any, content_type: str | None) -> None:
    site, alice, *_ = two
    before = site.entries()
    headers = {"content-type": content_type} if content_type else {}
    answer = alice.post(WITHDRAW, content=b'{"scope": "processing"}', headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (415, "unsupported-media-type")
    assert site.entries() == before


@pytest.mark.parametrize("which", ["none", "empty", "forged", "bobs", "terms-page"])
def test_form_withdrawal_needs_this_subjects_token(two: Any, which: str) -> None:
    site, alice, bob, alice_ids, _ = two
    forms = {"none": None, "empty": "", "forged": "x" * 40, "bobs": token(bob), "terms-page": None}
    value = forms[which]
    data = {"scope": "processing", "submission": "all"}
    if value is not None:
        data["csrf_token"] = value
    before = site.entries()
    answer = alice.post(WITHDRAW, data=data, follow_redirects=False)
    assert (answer.status_code, answer.json()["code"]) == (403, "csrf-failed")
    assert site.entries() == before and statuses(site, export(alice)["subject"]) == dict.fromkeys(alice_ids, "stored")


def test_a_token_taken_from_alice_does_not_work_with_bobs_cookie(two: Any) -> None:
    site, alice, bob, _, bob_ids = two
    before = site.entries()
    answer = bob.post(WITHDRAW, data={"csrf_token": token(alice), "scope": "processing"}, follow_redirects=False)
    assert (answer.status_code, answer.json()["code"]) == (403, "csrf-failed")
    assert site.entries() == before and statuses(site, export(bob)["subject"]) == dict.fromkeys(bob_ids, "stored")


def test_the_own_form_and_same_origin_json_do_withdraw(two: Any) -> None:
    site, alice, _, alice_ids, _ = two
    subject = export(alice)["subject"]
    answer = alice.post(WITHDRAW, data={"csrf_token": token(alice), "scope": "portrait", "submission": str(alice_ids[0])},
                        follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ugc-guard/me?lang=en&done=1"
    answer = alice.post(WITHDRAW, json={"scope": "portrait", "submission": alice_ids[1]}, headers={"origin": "http://testserver"})
    assert answer.status_code == 200 and answer.json()["withdrawn"] == [alice_ids[1]]
    assert statuses(site, subject) == dict.fromkeys(alice_ids, "withdrawn")


# -- a withdrawn or erased subject's cookie, used again -----------------------------------------


def test_after_withdrawing_processing_the_cookie_uploads_nothing_and_withdraws_nothing_twice(two: Any) -> None:
    site, alice, _, alice_ids, _ = two
    subject = export(alice)["subject"]
    assert alice.post(WITHDRAW, json={"scope": "processing"}).json()["withdrawn"] == alice_ids
    reached = site.reached()
    refused = alice.post("/upload", files={"file": ("x.jpg", jpeg((50, 50)), "image/jpeg")}, data=GRANTS)
    assert (refused.status_code, refused.json()["code"]) == (403, "terms-not-accepted")
    assert site.reached() == reached and statuses(site, subject) == dict.fromkeys(alice_ids, "withdrawn")
    again = alice.post(WITHDRAW, json={"scope": "portrait", "submission": alice_ids[0]})
    assert again.status_code == 200 and again.json()["withdrawn"] == [] and again.json()["receipt"] is None
    page = alice.get(ME, headers={"accept-language": "en"})
    assert page.status_code == 200 and page.text.count("<td>taken down</td>") == 2


def test_an_erased_subjects_cookie_reads_only_hashes_and_cannot_record_anything_under_that_pseudonym(two: Any) -> None:
    site, alice, _, alice_ids, _ = two
    subject = export(alice)["subject"]
    ledger = Ledger(site.ledger_url, secret=SECRET)
    erase_subject(ledger, CAMPAIGN, subject, reason="asked by e-mail")
    ledger.close()
    document = export(alice)
    assert document["erased"] is True and all(item["original_name"] == "[erased]" for item in document["submissions"])
    assert [item["status"] for item in document["submissions"]] == ["erased", "erased"]
    before, reached = site.entries(), site.reached()
    answer = alice.post(WITHDRAW, json={"scope": "portrait", "submission": "all"})
    assert answer.status_code == 200 and answer.json()["withdrawn"] == [] and site.entries() == before
    refused = alice.post("/upload", files={"file": ("x.jpg", jpeg((51, 51)), "image/jpeg")}, data=GRANTS)
    assert (refused.status_code, refused.json()["code"]) == (403, "terms-not-accepted")
    assert site.reached() == reached and site.entries() == before
    accepted = accept(alice)  # accepting again gives the browser a new pseudonym: the erased one is never used again
    assert accepted.status_code == 303 and "ugc_guard_subject=" in accepted.headers.get("set-cookie", "")
    assert export(alice)["subject"] != subject and statuses(site, subject) == dict.fromkeys(alice_ids, "erased")


def test_withdrawing_processing_with_an_erased_cookie_records_nothing(two: Any) -> None:
    site, alice, *_ = two
    subject = export(alice)["subject"]
    ledger = Ledger(site.ledger_url, secret=SECRET)
    erase_subject(ledger, CAMPAIGN, subject, reason="asked by e-mail")
    ledger.close()
    before = site.entries()
    answer = alice.post(WITHDRAW, json={"scope": "processing"})
    assert (answer.status_code, answer.json()["code"]) == (410, "subject-erased")
    assert site.entries() == before


# -- phantom submissions through /me ------------------------------------------------------------


def test_me_shows_an_upload_a_killed_worker_left_as_not_stored_unconfirmed_never_as_stored(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice = person(site)
    document = export(alice)
    subject, acceptance = document["subject"], document["acceptances"][0]["entry_id"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger._workers", "record", site.ledger_url, str(acceptance), CAMPAIGN, subject, SECRET],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert worker.stdout is not None
        phantom = int(worker.stdout.readline())  # recorded with its grants; the app never answered
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    (pending,) = export(alice)["submissions"]
    assert (pending["submission_id"], pending["status"], pending["on_takedown_list"]) == (phantom, "received", False)
    assert "<td>received</td>" in alice.get(ME, headers={"accept-language": "en"}).text

    restarted = make_site()  # the restarted worker's middleware: its first upload sweeps what the dead one left
    client = restarted.client()
    client.cookies.update(alice.cookies)
    stored = upload(restarted, client, 9)
    items = {item["submission_id"]: item for item in export(client)["submissions"]}
    assert items[phantom]["status"] == UNCONFIRMED and items[stored]["status"] == "stored"
    assert items[phantom]["status_reason"] == "the worker process that recorded it stopped before the app's answer was confirmed"
    assert items[phantom]["licence_grant"]["irrevocable"] is True  # the grants were made, and stay recorded
    page = client.get(ME, headers={"accept-language": "en"})
    assert page.text.count(f"<td>{UNCONFIRMED}</td>") == 1 and page.text.count("<td>stored</td>") == 1
    assert [call["ugc"].id for call in restarted.spy.calls] == [str(stored)]  # the app never saw the phantom
