"""``{prefix}/me``, ``/me/export`` and ``/me/withdraw`` through the real middleware on a real ledger."""

from __future__ import annotations

from collections.abc import Callable

import jsonschema

from tests.pages.me.conftest import EVENTS, Site
from ugc_guard.pages.export import export_schema

HOOK = {"hooks": {"withdrawal": "tests.pages.me.conftest:record_event"}}


def test_export_holds_everything_about_the_subject_and_nothing_about_anyone_else(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice, bob = site.person(), site.person()
    alice_ids = [site.upload(alice, n)[0] for n in range(2)]
    bob_id, bob_sha = site.upload(bob, 7)

    response = alice.get("/ugc-guard/me/export")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store" and "attachment" in response.headers["content-disposition"]
    document = response.json()
    jsonschema.validate(document, export_schema())
    subject = document["subject"]
    history = [view.as_dict() for view in site.ledger.history(subject).items]
    assert [entry["id"] for entry in document["entries"]] == [entry["id"] for entry in history]
    assert {entry["kind"] for entry in document["entries"]} >= {"terms_acceptance", "age_result", "submission", "licence_grant", "portrait_grant"}
    assert [item["submission_id"] for item in document["submissions"]] == alice_ids
    assert all(item["licence_grant"]["irrevocable"] is True for item in document["submissions"])
    assert all(item["portrait_grant"]["withdrawable"] is True and item["can_withdraw_portrait"] for item in document["submissions"])
    assert all(item["original_name"].startswith("photo-") for item in document["submissions"])  # personal field opened
    text = response.text
    bob_subject = site.ledger.grants(bob_id)[0].subject
    assert bob_subject and bob_subject not in text and bob_sha not in text and f'"id": {bob_id},' not in text
    assert all(entry["subject"] == subject for entry in document["entries"])


def test_page_lists_acceptance_submissions_and_explains_licence_versus_portrait(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice = site.person()
    site.upload(alice)
    page = alice.get("/ugc-guard/me?lang=nl")
    assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
    assert '<html lang="nl">' in page.text and "kan niet worden ingetrokken" in page.text
    assert "Trek toestemming voor je portret in" in page.text and 'name="csrf_token"' in page.text
    english = alice.get("/ugc-guard/me", headers={"accept-language": "en"})
    assert "cannot be taken back" in english.text and "Terms version 1 (English)" in english.text


def test_withdraw_one_by_form_puts_it_on_the_takedown_list_calls_the_hook_and_keeps_the_licence(make_site: Callable[..., Site]) -> None:
    import re

    site = make_site(HOOK)
    alice = site.person()
    first, first_sha = site.upload(alice, 1)
    second, _ = site.upload(alice, 2)
    token = re.search(r'name="csrf_token" value="([^"]+)"', alice.get("/ugc-guard/me").text).group(1)  # type: ignore[union-attr]
    response = alice.post("/ugc-guard/me/withdraw", data={"csrf_token": token, "scope": "portrait", "submission": str(first)},
                          follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("done=1")
    assert [row["submission_id"] for row in site.ledger.takedowns()] == [first]
    assert site.ledger.takedowns()[0]["scope"] == "portrait"
    (event,) = EVENTS
    assert event["event"] == "withdrawal" and event["submissions"][0]["content_sha256"] == first_sha
    kinds = [entry.kind for entry in site.ledger.grants(first)]
    assert kinds.count("licence_grant") == 1 and "withdrawal" in kinds  # the licence stays recorded
    document = alice.get("/ugc-guard/me/export").json()
    by_id = {item["submission_id"]: item for item in document["submissions"]}
    assert by_id[first]["portrait_withdrawn"] and not by_id[first]["can_withdraw_portrait"]
    assert by_id[first]["licence_grant"]["irrevocable"] is True
    assert by_id[second]["can_withdraw_portrait"]
    assert "taken back" in alice.get("/ugc-guard/me?done=1").text
    assert site.ledger.verify().ok


def test_withdraw_all_by_json_and_again_changes_nothing(make_site: Callable[..., Site]) -> None:
    site = make_site(HOOK)
    alice = site.person()
    ids = [site.upload(alice, n)[0] for n in range(3)]
    response = alice.post("/ugc-guard/me/withdraw", json={"scope": "portrait", "submission": "all"})
    assert response.status_code == 200, response.text
    assert response.json()["withdrawn"] == ids and response.json()["app_notified"] is True
    again = alice.post("/ugc-guard/me/withdraw", json={"scope": "portrait", "submission": "all"})
    assert again.json()["withdrawn"] == [] and again.json()["receipt"] is None
    assert len(EVENTS) == 1 and len(site.ledger.takedowns()) == 3


def test_withdrawing_consent_to_processing_takes_everything_down_and_gates_new_uploads(make_site: Callable[..., Site]) -> None:
    from tests.screening.samples import jpeg, upload_form

    site = make_site()
    alice = site.person()
    sid, _ = site.upload(alice)
    response = alice.post("/ugc-guard/me/withdraw", json={"scope": "processing", "reason": "changed my mind"})
    assert response.status_code == 200 and response.json()["withdrawn"] == [sid]
    assert [row["submission_id"] for row in site.ledger.takedowns()] == [sid]
    body, content_type = upload_form("x.jpg", "image/jpeg", jpeg())
    refused = alice.post("/upload", content=body, headers={"content-type": content_type})
    assert refused.status_code == 403 and refused.json()["code"] == "terms-not-accepted"


def test_a_failing_withdrawal_hook_still_records_the_withdrawal(make_site: Callable[..., Site]) -> None:
    site = make_site({"hooks": {"withdrawal": "tests.pages.me.test_self_service:broken"}})
    alice = site.person()
    sid, _ = site.upload(alice)
    response = alice.post("/ugc-guard/me/withdraw", json={"submission": sid})
    assert response.status_code == 200 and response.json()["app_notified"] is False
    assert [row["submission_id"] for row in site.ledger.takedowns()] == [sid]


def broken(event: dict[str, object]) -> None:
    raise ConnectionError("publishing service down")


# -- bad input ----------------------------------------------------------------------------------

def test_export_and_withdraw_without_a_valid_subject_cookie_are_401(make_site: Callable[..., Site]) -> None:
    from starlette.testclient import TestClient

    site = make_site()
    stranger = TestClient(site.guard, base_url="http://testserver")
    forged = TestClient(site.guard, base_url="http://testserver", cookies={"ugc_guard_subject": "forged.value"})
    for response in (stranger.get("/ugc-guard/me/export"), stranger.post("/ugc-guard/me/withdraw", json={"submission": "all"}),
                     forged.get("/ugc-guard/me/export")):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "subject-required"
    page = stranger.get("/ugc-guard/me", headers={"accept": "text/html"})
    assert page.status_code == 401 and "privacy@controller.example" in page.text


def test_withdrawing_someone_elses_submission_looks_like_a_missing_one(make_site: Callable[..., Site]) -> None:
    site = make_site(HOOK)
    alice, bob = site.person(), site.person()
    bob_id, _ = site.upload(bob)
    theirs = alice.post("/ugc-guard/me/withdraw", json={"submission": bob_id})
    missing = alice.post("/ugc-guard/me/withdraw", json={"submission": bob_id + 1000})
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == missing.json()["detail"]
    assert site.ledger.takedowns() == [] and EVENTS == []


def test_withdraw_form_without_a_valid_token_or_from_another_site_is_refused(make_site: Callable[..., Site]) -> None:
    site = make_site()
    alice = site.person()
    sid, _ = site.upload(alice)
    forged = alice.post("/ugc-guard/me/withdraw", data={"csrf_token": "nope", "submission": str(sid)})
    cross = alice.post("/ugc-guard/me/withdraw", json={"submission": sid}, headers={"origin": "https://evil.example"})
    bad = alice.post("/ugc-guard/me/withdraw", json={"submission": "first"})
    assert forged.status_code == 403 and forged.json()["code"] == "csrf-failed"
    assert cross.status_code == 403 and cross.json()["code"] == "csrf-failed"
    assert bad.status_code == 400 and bad.json()["code"] == "invalid-request"
    assert site.ledger.takedowns() == []
