"""The console's reads (ledger.cases and ConsoleData) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from tests.console.conftest import SECRET, Filled, sha
from ugc_guard.console.data import ConsoleData
from ugc_guard.ledger import Ledger
from ugc_guard.ledger.cases import submission_case, submission_of_entry


def test_reads_on_every_database(filled_any: Filled) -> None:
    ledger = Ledger(filled_any.url, secret=SECRET)
    try:
        data = ConsoleData(ledger, filled_any.policy)
        found = data.search("alice")
        assert [(row["submission_id"], row["status"]) for row in found.rows] == [
            (filled_any.stored, "stored"), (filled_any.refused, "not stored")]
        assert [row["status"] for row in data.search(sha("bob-photo")).rows] == ["withdrawn"]
        assert [row["submission_id"] for row in data.search(str(filled_any.refused + 2)).rows] == [filled_any.refused]
        case = submission_case(ledger, filled_any.withdrawn)
        assert case is not None and case.status == "withdrawn" and case.submission.status == "received"
        assert case.acceptance is not None and case.acceptance.kind == "terms_acceptance"
        assert case.age is not None and case.age.data["band"] == "18+"
        assert [view.kind for view in case.entries] == ["licence_grant", "portrait_grant", "submission_status", "withdrawal",
                                                        "submission_status"]
        assert data.text(case.acceptance.data["text_sha256"]) == ("terms", "en", filled_any.policy.terms.texts["en"].text)
        assert submission_case(ledger, filled_any.withdrawn, campaign="another") is None
        assert submission_of_entry(ledger, case.acceptance.id) is None
        assert [row["submission_id"] for row in data.takedowns()] == [filled_any.withdrawn]
        due = data.requests_due(dt.datetime.now(dt.UTC).date())
        assert [(row["id"], row["kind"], row["overdue"]) for row in due] == [(filled_any.request_id, "erasure", True)]
        report = data.check_receipt(filled_any.signed_receipt)
        assert report.ledger_ok and report.signature_ok and report.submission_id == filled_any.stored
    finally:
        ledger.close()
