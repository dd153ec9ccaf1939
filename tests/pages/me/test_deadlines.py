from __future__ import annotations

import datetime as dt

import pytest

from ugc_guard.rules.deadlines import add_business_days, deadlines


def test_gdpr_one_month_extendable_by_two() -> None:
    due = deadlines("gdpr", dt.date(2026, 1, 31))
    assert due.confirm_by is None
    assert due.answer_by == dt.date(2026, 2, 28)  # no 31 February: the month's last day
    assert due.extended_answer_by == dt.date(2026, 4, 30)
    assert deadlines("gdpr", dt.date(2026, 3, 15)).answer_by == dt.date(2026, 4, 15)


def test_ccpa_ten_business_days_and_45_plus_45() -> None:
    due = deadlines("ccpa", dt.date(2026, 11, 20))  # a Friday
    assert due.confirm_by == dt.date(2026, 12, 4)
    assert due.answer_by == dt.date(2027, 1, 4)
    assert due.due(extended=True) == dt.date(2027, 2, 18)


def test_business_days_skip_weekends() -> None:
    assert add_business_days(dt.date(2026, 11, 21), 1) == dt.date(2026, 11, 23)  # Saturday -> Monday
    assert add_business_days(dt.date(2026, 11, 23), 5) == dt.date(2026, 11, 30)


def test_unknown_regime() -> None:
    with pytest.raises(ValueError, match="unknown regime 'lgpd'"):
        deadlines("lgpd", dt.date(2026, 1, 1))  # type: ignore[arg-type]
