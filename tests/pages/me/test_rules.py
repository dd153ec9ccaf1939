"""The plain decision functions of rights: what a withdrawal covers, the export builder, request deadlines."""

from __future__ import annotations

import datetime as dt

import pytest

from ugc_guard.ledger.requests import RightsRequest
from ugc_guard.pages.export import WITHHELD, build_export
from ugc_guard.pages.log import due_rows
from ugc_guard.pages.withdraw import NotTheirs, parse_target, plan_withdrawal

OWN = {3: {"status": "stored"}, 5: {"status": "withdrawn"}, 8: {"status": "accepted"}, 9: {"status": "expired"}}


def test_plan_withdrawal_skips_gone_submissions_and_hides_others() -> None:
    assert plan_withdrawal(OWN, "portrait", "all") == [3, 8]
    assert plan_withdrawal(OWN, "processing", 3) == [3, 8]
    assert plan_withdrawal(OWN, "portrait", 3) == [3]
    assert plan_withdrawal(OWN, "portrait", 5) == []
    with pytest.raises(NotTheirs):
        plan_withdrawal(OWN, "portrait", 4)


@pytest.mark.parametrize("value", ["x", "0", "-1", True, 0, 1.5, None, "9" * 30])
def test_parse_target_refuses_what_is_not_an_id(value: object) -> None:
    with pytest.raises(ValueError, match="submission id or 'all'"):
        parse_target(value)


def entry(id_: int, kind: str, subject: str, data: dict[str, object], ref: int | None = None, campaign: str = "c") -> dict[str, object]:
    return {"id": id_, "campaign": campaign, "position": id_, "kind": kind, "subject": subject, "recorded_at": "t", "ref": ref,
            "content_sha256": None, "terms_version": None, "status": None, "data": data, "hash": "0" * 64}


def test_export_ignores_other_subjects_and_campaigns_and_withholds_the_guardians_own_data() -> None:
    entries = [
        entry(1, "submission", "me", {"content_sha256": "a" * 64, "size": 1}),
        entry(2, "portrait_grant", "me", {"withdrawable": True}, ref=1),
        entry(3, "submission", "other", {"content_sha256": "b" * 64}),
        entry(4, "submission", "me", {"content_sha256": "c" * 64}, campaign="elsewhere"),
        entry(5, "guardian_confirmed", "me", {"guardian_name": "Ann", "relationship": "mother", "covers": ["terms"]}),
        entry(6, "withdrawal", "me", {"scope": "portrait", "target_entry": 1}, ref=1),
        entry(7, "submission_status", "me", {"status": "withdrawn"}, ref=1),
    ]
    document = build_export("c", "me", entries)
    assert [e["id"] for e in document["entries"]] == [1, 2, 5, 6, 7]
    (submission,) = document["submissions"]
    assert submission["status"] == "withdrawn" and submission["on_takedown_list"] and not submission["can_withdraw_portrait"]
    guardian = document["entries"][2]["data"]
    assert guardian == {"guardian_name": WITHHELD, "relationship": WITHHELD, "covers": ["terms"]}


def test_due_rows_order_by_answer_date_and_flag_overdue() -> None:
    def logged(id_: int, regime: str, received: dt.date, extended: bool = False) -> RightsRequest:
        return RightsRequest(id_, None, None, regime, "access", received, None, extended, None, None)

    rows = due_rows([logged(1, "gdpr", dt.date(2026, 1, 31)), logged(2, "ccpa", dt.date(2026, 1, 2)),
                     logged(3, "gdpr", dt.date(2026, 1, 5), extended=True)], dt.date(2026, 2, 20))
    assert [(r["id"], r["answer_by"], r["overdue"]) for r in rows] == [
        (2, "2026-02-16", True), (1, "2026-02-28", False), (3, "2026-04-05", False)]
    assert rows[0]["confirm_by"] == "2026-01-16"
