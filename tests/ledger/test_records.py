"""Recording what the gate and screening hand over, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest

from ugc_guard.ledger import (
    AgeResult,
    AsyncLedger,
    EntryNotFound,
    GuardianRequestUsed,
    Kind,
    Ledger,
    LedgerError,
    LicenceShown,
    register,
)

from .conftest import CAMPAIGN, LICENCE, TERMS, accept, sha, submit

NOTE = register(Kind("test_note", frozenset({"note"}), lambda payload: {"topic": payload["topic"]}, "a kind added by a test"))


def test_acceptance_records_age_result_then_acceptance_and_status(ledger: Ledger) -> None:
    receipt = accept(ledger, "s1")
    assert receipt.kind == "terms_acceptance" and receipt.position == 2
    assert receipt.summary["text_sha256"] == TERMS.text_sha256 and receipt.summary["version"] == "2"
    assert [r["kind"] for r in receipt.related] == ["age_result"]
    status = ledger.subject_status(CAMPAIGN, "s1")
    assert (status.terms_version, status.age_band, status.acceptance_id, status.guardian_status) == ("2", "18+", receipt.entry_id, "none")
    acceptance = ledger.entry(receipt.entry_id)
    assert acceptance is not None and acceptance.ref == receipt.related[0]["entry_id"]
    assert acceptance.data["client_address"].startswith("hmac-sha256:")
    assert "203.0.113.77" not in str(acceptance.data)
    assert ledger.subject_status(CAMPAIGN, "nobody").terms_version is None


def test_submission_with_both_grants_is_atomic_and_consecutive(ledger: Ledger) -> None:
    acceptance = accept(ledger, "s1")
    result = submit(ledger, "s1", acceptance.entry_id, "photo-1")
    entries = ledger.grants(result.submission_id)
    assert [e.kind for e in entries] == ["submission", "licence_grant", "portrait_grant"]
    assert [e.position for e in entries] == [3, 4, 5]
    licence = entries[1].data
    assert licence["rights"] == list(LICENCE.rights) and licence["irrevocable"] is True and licence["exclusive"] is False
    assert entries[0].data["original_name"] == "holiday.jpg" and entries[0].ref == acceptance.entry_id
    assert [r["kind"] for r in result.receipt.related] == ["licence_grant", "portrait_grant"]
    ledger.record_submission_status(result.submission_id, "not stored", "the app answered 500")
    listed = ledger.submissions(status="not stored").items
    assert [(e.status, e.current_status) for e in listed] == [("received", "not stored")]  # as recorded (hashed), and now
    assert ledger.submissions(status="received").items == [] and ledger.submissions(status="accepted").items == []
    with pytest.raises(LedgerError, match="unknown submission status"):
        ledger.record_submission_status(result.submission_id, "lost")
    with pytest.raises(EntryNotFound):
        ledger.record_submission_status(999_999, "stored")


def test_guardian_flow_with_two_guardians_and_a_spent_token(ledger: Ledger) -> None:
    minor = AgeResult("16-17", "birth_date", "self-declared", reconfirm_due=dt.date(2027, 7, 1))
    acceptance = accept(ledger, "minor", age=minor)
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    first = ledger.record_guardian_request(CAMPAIGN, "minor", acceptance_id=acceptance.entry_id, token_sha256=sha("token-1"),
                                           expires_at=expires, guardian_email="mum@example.org")
    second = ledger.record_guardian_request(CAMPAIGN, "minor", acceptance_id=acceptance.entry_id, token_sha256=sha("token-2"),
                                            expires_at=expires, guardian_email="dad@example.org", guardian_index=2)
    assert ledger.subject_status(CAMPAIGN, "minor").guardian_status == "pending"
    found = ledger.find_guardian_request(CAMPAIGN, sha("token-1"))
    assert found is not None and (found.request_id, found.subject, found.used, found.terms_version) == (first, "minor", False, "2")
    assert found.expires_at == expires
    assert ledger.find_guardian_request("other-campaign", sha("token-1")) is None
    shown = LicenceShown(LICENCE.licence_id, LICENCE.version, LICENCE.text_sha256)
    ledger.record_guardian_confirmation(CAMPAIGN, first, guardian_name="A. Parent", relationship="mother", terms=TERMS,
                                        licence=shown, policy_digest=sha("policy"))
    with pytest.raises(GuardianRequestUsed):
        ledger.record_guardian_confirmation(CAMPAIGN, first, guardian_name="Someone", relationship="mother", terms=TERMS,
                                            licence=shown, policy_digest=sha("policy"))
    status = ledger.subject_status(CAMPAIGN, "minor")
    assert (status.guardian_status, status.guardians_confirmed) == ("confirmed", 1)
    ledger.record_guardian_confirmation(CAMPAIGN, second, guardian_name="B. Parent", relationship="father", terms=TERMS,
                                        licence=shown, policy_digest=sha("policy"))
    assert ledger.subject_status(CAMPAIGN, "minor").guardians_confirmed == 2
    found = ledger.find_guardian_request(CAMPAIGN, sha("token-1"))
    assert found is not None and found.used
    ledger.record_guardian_withdrawal(CAMPAIGN, second, reason="changed mind")
    status = ledger.subject_status(CAMPAIGN, "minor")
    assert (status.guardian_status, status.guardians_confirmed) == ("withdrawn", 1)
    confirmations = ledger.entries(kinds=["guardian_confirmed"]).items
    assert {e.data["guardian_name"] for e in confirmations} == {"A. Parent", "B. Parent"}
    assert ledger.history("minor").items[2].data["guardian_email"] == "mum@example.org"
    with pytest.raises(EntryNotFound):
        ledger.record_guardian_withdrawal(CAMPAIGN, acceptance.entry_id)


def test_a_later_age_result_becomes_the_current_band(ledger: Ledger) -> None:
    accept(ledger, "late-check", age=None)
    assert ledger.subject_status(CAMPAIGN, "late-check").age_band is None
    receipt = ledger.record_age_result(CAMPAIGN, "late-check", AgeResult("18+", "external", "eu-age-verification"))
    assert receipt.summary == {"band": "18+", "method": "external", "assurance": "eu-age-verification",
                               "reconfirm_at_majority": False}
    status = ledger.subject_status(CAMPAIGN, "late-check")
    assert (status.age_band, status.age_assurance, status.terms_version) == ("18+", "eu-age-verification", "2")


def test_minors_due_for_reconfirmation(ledger: Ledger) -> None:
    accept(ledger, "early", age=AgeResult("16-17", "birth_date", "self-declared", reconfirm_due=dt.date(2026, 5, 1)))
    accept(ledger, "late", age=AgeResult("16-17", "birth_date", "self-declared", reconfirm_due=dt.date(2027, 5, 1)))
    accept(ledger, "adult")
    due = ledger.due_reconfirmations(CAMPAIGN, dt.date(2026, 6, 1))
    assert [s.subject for s in due] == ["early"] and due[0].reconfirm
    accept(ledger, "early")  # re-confirmed as an adult: no longer flagged
    assert ledger.due_reconfirmations(CAMPAIGN, dt.date(2026, 6, 1)) == []


def test_rights_entries_and_new_kinds(ledger: Ledger) -> None:
    acceptance = accept(ledger, "s1")
    result = submit(ledger, "s1", acceptance.entry_id, "photo")
    ledger.record_withdrawal(CAMPAIGN, "s1", "submission", target_entry=result.submission_id, reason="portrait withdrawn")
    ledger.mark_used(result.submission_id, production="spot-1", used_on=dt.date(2026, 4, 1))
    ledger.record_retention_action(CAMPAIGN, "deleted", target_entry=result.submission_id, rule="submissions", period="P90D")
    kinds = [e.kind for e in ledger.grants(result.submission_id)]
    assert kinds[-5:] == ["withdrawal", "submission_status", "mark_used", "retention_action", "submission_status"]
    assert ledger.submissions(status="expired").items[0].id == result.submission_id
    receipt = ledger.append_entry(CAMPAIGN, "test_note", {"topic": "x"}, subject="s1", personal={"note": "private"})
    assert receipt.summary == {"topic": "x"}
    view = ledger.entry(receipt.entry_id)
    assert view is not None and view.data == {"topic": "x", "note": "private"}
    assert ledger.verify().ok


def test_async_facade_runs_in_a_worker_thread(ledger: Ledger) -> None:
    async def main() -> None:
        facade = AsyncLedger(ledger)
        receipt = await facade.record_acceptance(CAMPAIGN, "s2", TERMS, None, collection_method="api:json",
                                                 policy_digest=sha("p"))
        status = await facade.subject_status(CAMPAIGN, "s2")
        assert status.acceptance_id == receipt.entry_id and status.age_band is None
        assert (await facade.verify()).ok
        assert (await facade.verify_receipt(receipt)).ok

    anyio.run(main)
