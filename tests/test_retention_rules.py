from __future__ import annotations

import datetime as dt

from ugc_guard.policy.models import Retention, RetentionRule
from ugc_guard.rules.retention import RetentionFacts, submission_due

UPLOADED = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)


def test_unused_footage_three_calendar_months() -> None:
    retention = Retention(unused_submissions=RetentionRule(period="P3M"))
    due = submission_due(retention, RetentionFacts(UPLOADED), None)
    assert due is not None and due.rule == "unused_submissions" and due.at == dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)


def test_used_footage_is_exempt_from_the_unused_rule_only() -> None:
    retention = Retention(unused_submissions=RetentionRule(period="P3M"), submissions=RetentionRule(period="P1Y"))
    due = submission_due(retention, RetentionFacts(UPLOADED, used=True), None)
    assert due is not None and due.rule == "submissions" and due.at == dt.datetime(2027, 7, 1, 12, tzinfo=dt.UTC)


def test_earliest_rule_wins() -> None:
    retention = Retention(unused_submissions=RetentionRule(period="P3M"), submissions=RetentionRule(period="P90D"))
    due = submission_due(retention, RetentionFacts(UPLOADED), None)
    assert due is not None and due.rule == "submissions" and due.at == dt.datetime(2026, 9, 29, 12, tzinfo=dt.UTC)


def test_campaign_end_anchor_waits_for_an_end_date() -> None:
    retention = Retention(submissions=RetentionRule(period="P1Y", anchor="campaign_end"))
    assert submission_due(retention, RetentionFacts(UPLOADED), None) is None
    due = submission_due(retention, RetentionFacts(UPLOADED), dt.date(2027, 3, 31))
    assert due is not None and due.at.date() == dt.date(2028, 3, 31)


def test_last_use_anchor() -> None:
    retention = Retention(submissions=RetentionRule(period="P90D", anchor="last_use"))
    used = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    due = submission_due(retention, RetentionFacts(UPLOADED, used=True, last_used_at=used), None)
    assert due is not None and due.at == used + dt.timedelta(days=90)
    fallback = submission_due(retention, RetentionFacts(UPLOADED), None)
    assert fallback is not None and fallback.at == UPLOADED + dt.timedelta(days=90)


def test_no_rules_nothing_due() -> None:
    assert submission_due(Retention(), RetentionFacts(UPLOADED), None) is None
