"""Erasure destroys the subject key: the chain still verifies and nothing personal is readable."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ugc_guard.ledger import ERASED, SEALED, Ledger, SubjectErased

from .conftest import CAMPAIGN, accept, sha, submit


def test_erasure_keeps_the_chain_and_hides_personal_fields(ledger: Ledger) -> None:
    acceptance = accept(ledger, "gone")
    ledger.record_guardian_request(CAMPAIGN, "gone", acceptance_id=acceptance.entry_id, token_sha256=sha("t"),
                                   expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), guardian_email="parent-of-gone@example.org")
    result = submit(ledger, "gone", acceptance.entry_id, "their-photo", name="Jane Doe at the beach.jpg")
    kept = accept(ledger, "kept")
    receipt = ledger.erase_subject(CAMPAIGN, "gone", reason="GDPR Art. 17(1)(f)", requested_by="subject")
    assert receipt.kind == "erasure"
    assert ledger.verify().ok
    history = ledger.history("gone").items
    assert [e.kind for e in history][-1] == "erasure"
    assert history[2].data["guardian_email"] == ERASED
    submission = ledger.grants(result.submission_id)[0]
    assert submission.data["original_name"] == ERASED and submission.content_sha256 == sha("their-photo")
    assert ledger.entry(kept.entry_id).data["client_address"].startswith("hmac-sha256:")  # type: ignore[union-attr]
    assert ledger.subject_status(CAMPAIGN, "gone").erased
    assert ledger.stats()["campaigns"][0]["subjects_erased"] == 1
    with pytest.raises(SubjectErased):
        accept(ledger, "gone")
    assert ledger.verify_receipt(result.receipt).ok


def test_nothing_personal_is_left_in_the_sqlite_file(sqlite_url: str) -> None:
    ledger = Ledger(sqlite_url, secret="erasure-secret-" + "x" * 16)
    ledger.upgrade()
    acceptance = accept(ledger, "gone")
    ledger.record_guardian_request(CAMPAIGN, "gone", acceptance_id=acceptance.entry_id, token_sha256=sha("t"),
                                   expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), guardian_email="findme@example.org")
    ledger.erase_subject(CAMPAIGN, "gone", reason="request")
    ledger.close()
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"findme@example.org" not in raw and b"203.0.113" not in raw


def test_without_the_secret_personal_fields_stay_sealed(ledger: Ledger) -> None:
    acceptance = accept(ledger, "s1")
    reader = Ledger(ledger.url)
    view = reader.entry(acceptance.entry_id)
    assert view is not None and view.data["client_address"] == SEALED and view.data["version"] == "2"
    assert reader.verify().ok
    reader.close()
