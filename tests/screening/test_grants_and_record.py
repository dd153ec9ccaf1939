"""Grants, then record, then replay: the app sees nothing before the submission is recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from tests.screening import samples
from tests.screening.conftest import MemoryLedger, Screening
from tests.screening.samples import GRANT_HEADERS, GRANTS, upload_form
from ugc_guard.problems import Problem


def post(setup: Screening, grants: dict[str, str], query: str = "") -> tuple[int, dict[str, object]]:
    body, form_type = upload_form("photo.jpg", "image/jpeg", samples.jpeg(), grants)
    response = setup.client.post("/upload" + query, content=body, headers={"content-type": form_type})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("grants", "code"),
    [
        ({k: v for k, v in GRANTS.items() if k != "ugc_licence"}, "licence-not-granted"),
        ({**GRANTS, "ugc_licence": "decline"}, "licence-not-granted"),
        ({k: v for k, v in GRANTS.items() if k != "ugc_portrait_self"}, "portrait-consent-missing"),
        ({**GRANTS, "ugc_portrait_self": "no"}, "portrait-consent-missing"),
        ({k: v for k, v in GRANTS.items() if k != "ugc_portrait_others"}, "portrait-consent-missing"),
        ({**GRANTS, "ugc_portrait_others": "some"}, "portrait-consent-missing"),
    ],
)
def test_missing_or_declined_grants_get_403(screening: Callable[..., Screening], grants: dict[str, str], code: str) -> None:
    setup = screening()
    status, answer = post(setup, grants)
    assert (status, answer["code"]) == (403, code)
    assert setup.ledger.recorded == []
    assert setup.leftovers() == []


def test_portrait_answers_are_optional_when_the_policy_does_not_require_them(screening: Callable[..., Screening]) -> None:
    setup = screening({"portrait": {"require_own_consent": False, "require_others_declaration": False}})
    status, answer = post(setup, {"ugc_licence": "accept"})
    assert status == 200, answer
    grants = setup.ledger.recorded[0].grants
    assert (grants.licence, grants.portrait_self, grants.portrait_others) == (True, False, None)


def test_grant_fields_may_come_before_or_after_the_file(screening: Callable[..., Screening]) -> None:
    setup = screening()
    fields = [(name, None, None, value.encode()) for name, value in GRANTS.items()]
    body, form_type = samples.multipart([*fields, ("file", "a.jpg", "image/jpeg", samples.jpeg())])
    response = setup.client.post("/upload", content=body, headers={"content-type": form_type})
    assert response.status_code == 200
    assert setup.ledger.recorded[0].grants.portrait_others == "none"


def test_conflicting_repeated_grant_is_malformed(screening: Callable[..., Screening]) -> None:
    setup = screening()
    fields = [(name, None, None, value.encode()) for name, value in GRANTS.items()]
    body, form_type = samples.multipart([*fields, ("ugc_licence", None, None, b"decline"), ("file", "a.jpg", "image/jpeg", samples.jpeg())])
    response = setup.client.post("/upload", content=body, headers={"content-type": form_type})
    assert (response.status_code, response.json()["code"]) == (400, "malformed-upload")


def test_raw_upload_carries_grants_in_headers_and_is_refused_before_the_body(screening: Callable[..., Screening]) -> None:
    setup = screening()
    data = samples.png()
    ok = setup.client.put("/raw/picture.png", content=data, headers={"content-type": "image/png", **GRANT_HEADERS})
    assert ok.status_code == 200, ok.text
    assert setup.ledger.recorded[0].files[0].sha256 == hashlib.sha256(data).hexdigest()
    assert setup.ledger.recorded[0].body == "raw"
    refused = setup.client.put("/raw/picture.png", content=data, headers={"content-type": "image/png", "UGC-Licence": "accept"})
    assert (refused.status_code, refused.json()["code"]) == (403, "portrait-consent-missing")


def test_raw_upload_name_from_content_disposition(screening: Callable[..., Screening]) -> None:
    setup = screening()
    disposition = 'attachment; filename="../../etc/passwd\u202egnp.png"'.encode()
    headers = {"content-type": b"image/png", "content-disposition": disposition, **{k: v.encode() for k, v in GRANT_HEADERS.items()}}
    response = setup.client.put("/raw/upload", content=samples.png(), headers=headers)
    assert response.status_code == 200, response.text
    recorded = setup.ledger.recorded[0].files[0]
    assert "/" not in recorded.name and "\u202e" not in recorded.name


def test_submission_is_in_request_state_and_recorded_before_the_app_runs(screening: Callable[..., Screening]) -> None:
    setup = screening()
    status, answer = post(setup, GRANTS)
    assert status == 200
    screened = setup.ledger.recorded[0]
    assert answer["file_sha256"] == screened.files[0].sha256
    assert screened.grants.licence and screened.grants.portrait_self
    assert setup.ledger.sizes_on_record == [screened.files[0].size]
    assert setup.ledger.not_stored == []
    assert setup.leftovers() == []


@pytest.mark.parametrize("failure", ["500", "raise"])
def test_app_error_marks_the_submission_not_stored(screening: Callable[..., Screening], failure: str) -> None:
    setup = screening()
    status, _ = (lambda r: (r.status_code, r))(
        setup.client.post("/upload?fail=" + failure, content=upload_form("a.jpg", "image/jpeg", samples.jpeg())[0],
                          headers={"content-type": upload_form("a.jpg", "image/jpeg", samples.jpeg())[1]})
    )  # fmt: skip
    assert status == 500
    assert [mark[1] for mark in setup.ledger.not_stored] == [500 if failure == "500" else None]
    assert setup.leftovers() == []


def test_recorder_refusal_is_passed_on(screening: Callable[..., Screening]) -> None:
    setup = screening(ledger=MemoryLedger(fail_with=Problem("licence-not-granted", "guardian consent does not cover the licence")))
    status, answer = post(setup, GRANTS)
    assert (status, answer["code"]) == (403, "licence-not-granted")
    assert setup.leftovers() == []


def test_ledger_failure_fails_closed_with_503(screening: Callable[..., Screening]) -> None:
    setup = screening(ledger=MemoryLedger(fail_with=ConnectionError("database is down")))
    status, answer = post(setup, GRANTS)
    assert (status, answer["code"]) == (503, "ledger-unavailable")
    assert setup.leftovers() == []


def test_large_upload_spools_to_disk_and_is_cleaned_up(screening: Callable[..., Screening]) -> None:
    setup = screening({"uploads": {"spool_memory_bytes": 1024, "replay": "original"}})
    data = samples.mp4(payload_bytes=3 * 1024 * 1024)
    body, form_type = upload_form("clip.mp4", "video/mp4", data)
    response = setup.client.post("/upload", content=body, headers={"content-type": form_type})
    assert response.status_code == 200, response.text
    assert response.json()["sha256"] == hashlib.sha256(body).hexdigest()
    assert setup.ledger.recorded[0].files[0].sha256 == hashlib.sha256(data).hexdigest()
    assert setup.leftovers() == []


def test_several_files_each_screened_and_recorded(screening: Callable[..., Screening]) -> None:
    setup = screening({"uploads": {"replay": "canonical"}})
    fields = [(name, None, None, value.encode()) for name, value in GRANTS.items()]
    files = [("file", "a.jpg", "image/jpeg", samples.jpeg()), ("file", "b.wav", "audio/wav", samples.wav()), ("note", None, None, b"hello")]
    body, form_type = samples.multipart([*files, *fields])
    response = setup.client.post("/upload", content=body, headers={"content-type": form_type})
    assert response.status_code == 200, response.text
    screened = setup.ledger.recorded[0]
    assert [item.type for item in screened.files] == ["image/jpeg", "audio/wav"]
    assert screened.fields == {"note": "hello"}
