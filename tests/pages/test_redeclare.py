"""An age band cannot be talked up: the plain rules, then the whole gate on a real ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from ugc_guard.ledger import Ledger
from ugc_guard.rules.age import AgeRule, band_labels
from ugc_guard.rules.redeclare import Declared, RecentRefusals, band_range, contradicts, strength

from .conftest import MINOR_POLICY, Harness, accept_form

TODAY = dt.date(2026, 6, 15)
SEVENTEEN = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()
FIFTEEN = (dt.date.today() - dt.timedelta(days=15 * 366)).isoformat()


@pytest.mark.parametrize(
    ("label", "expected"),
    [("18+", (18, None)), ("16-17", (16, 17)), ("under-16", (0, 15)), ("under-18", (0, 17)), ("adult", (0, None))],
)
def test_band_range(label: str, expected: tuple[int, int | None]) -> None:
    assert band_range(label) == expected


def test_every_policy_label_has_a_range() -> None:
    for rule in (AgeRule(18, 16), AgeRule(18, None), AgeRule(21, 13)):
        lows = [band_range(label)[0] for label in band_labels(rule)]
        assert lows == sorted(lows, reverse=True) and lows[-1] == 0


def test_strength_order() -> None:
    self_declared = strength("birth_date", "self-declared")
    assert self_declared == strength("age_band", "self-declared") == 0
    assert self_declared < strength("external", "self-declared") <= strength("external", "card") < strength("external", "document")
    assert strength("external", "document") < strength("eu-age-verification", "self-declared") == strength(None, "eu-age-verification")
    assert strength("birth_date", "document") == strength(None, "document")  # the policy says the typed date was checked


@pytest.mark.parametrize(
    ("previous", "band", "new_strength", "refused"),
    [
        (Declared("16-17", 0), "18+", 0, True),  # the talk-up
        (Declared("under-16", 0), "16-17", 0, True),
        (Declared("under-16", 0), "18+", 0, True),
        (Declared("16-17", 0), "16-17", 0, False),  # the same band again
        (Declared("18+", 0), "16-17", 0, False),  # lower: recorded
        (Declared("18+", 0), "21+", 0, False),  # 18+ has no ceiling: no contradiction
        (Declared("16-17", 0), "18+", 3, False),  # a stronger method may raise it
        (Declared("16-17", 3), "18+", 3, True),  # an equal one may not
        (Declared("16-17", 0, of_age_on=TODAY), "18+", 0, False),  # the earlier declaration says: of age by now
        (Declared("16-17", 0, of_age_on=TODAY + dt.timedelta(days=1)), "18+", 0, True),
        (Declared("adult", 0), "18+", 0, False),  # an app's own label: nothing to contradict
        (None, "18+", 0, False),
    ],
)
def test_contradicts(previous: Declared | None, band: str, new_strength: int, refused: bool) -> None:
    assert contradicts(previous, band, new_strength, TODAY) is refused


def test_recent_refusals_expire_and_stay_bounded() -> None:
    now = [0.0]
    memory = RecentRefusals(ttl=10, max_entries=2, clock=lambda: now[0])
    memory.note("a", Declared("under-16", 0))
    memory.note("b", Declared("under-16", 0))
    memory.note("c", Declared("under-16", 0))
    assert memory.get("a") is None and memory.get("c") == Declared("under-16", 0)
    now[0] = 10.0
    assert memory.get("c") is None


# -- through the gate --------------------------------------------------------------------------


def entries(harness: Harness) -> list[Any]:
    return Ledger(harness.ledger_url).entries(campaign="test-campaign").items


def json_accept(client: Any, **fields: Any) -> Any:
    return client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, **fields})


def test_minor_cannot_type_an_older_date(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    minor = harness.client()
    assert accept_form(minor, birth_date=SEVENTEEN, guardian_email="p@example.org").status_code == 303
    recorded = len(entries(harness))
    page = accept_form(minor, birth_date="1990-01-01")
    assert page.status_code == 409 and "already told us your age group (16-17)" in page.text
    answer = json_accept(minor, birth_date="1990-01-01")
    assert answer.status_code == 409 and answer.json()["code"] == "age-redeclared"
    assert len(entries(harness)) == recorded  # nothing recorded on refusal
    status = minor.get("/ugc-guard/status").json()
    assert status["age_band"] == "16-17" and status["missing"] == ["guardian-consent"]
    assert harness.gate.refusals["age-redeclared"] == 2


def test_age_band_method_cannot_be_raised_either(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16, "method": "age_band"}})
    minor = harness.client()
    assert json_accept(minor, age_band="16-17", guardian_email="p@example.org").status_code == 201
    answer = json_accept(minor, age_band="18+")
    assert answer.status_code == 409 and answer.json()["code"] == "age-redeclared"
    assert minor.get("/ugc-guard/status").json()["age_band"] == "16-17"


def test_lower_band_is_recorded(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    person = harness.client()
    assert accept_form(person).status_code == 303
    assert person.post("/upload", content=b"x").status_code == 200
    assert accept_form(person, birth_date=SEVENTEEN, guardian_email="p@example.org").status_code == 303
    assert person.get("/ugc-guard/status").json()["age_band"] == "16-17"
    assert person.post("/upload", content=b"x").json()["code"] == "guardian-consent-pending"


def test_below_minimum_after_a_recorded_band_records_the_lower_band(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    person = harness.client()
    assert accept_form(person).status_code == 303
    page = accept_form(person, birth_date=FIFTEEN)
    assert page.status_code == 403 and "We noted the age group" in page.text
    assert [entry.kind for entry in entries(harness)][-1] == "age_result"
    assert entries(harness)[-1].data["band"] == "under-16"
    assert person.post("/upload", content=b"x").json()["code"] == "age-below-minimum"
    assert json_accept(person, birth_date="1990-01-01").json()["code"] == "age-redeclared"


def test_refused_as_too_young_then_older_date_from_the_same_subject(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    child = harness.client()
    assert accept_form(child, birth_date=FIFTEEN).status_code == 403
    assert entries(harness) == []  # nothing recorded about a refused child
    page = accept_form(child, birth_date="1990-01-01")
    assert page.status_code == 409 and "under-16" in page.text
    assert entries(harness) == []
    assert accept_form(harness.client(), birth_date="1990-01-01").status_code == 303  # another subject is not affected


def test_stronger_method_may_raise_a_band(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    minor = harness.client()
    accept_form(minor, birth_date=SEVENTEEN, guardian_email="p@example.org")
    stronger = make_harness({"age": {"guardian_minimum": 16, "assurance": "document"}}, ledger_url=harness.ledger_url)
    checked = stronger.client(cookies=dict(minor.cookies))
    answer = json_accept(checked, birth_date="1990-01-01")
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"]["age_band"] == "18+"


def test_the_same_lower_band_is_recorded_once(make_harness: Callable[..., Harness]) -> None:
    harness = make_harness(MINOR_POLICY)
    person = harness.client()
    accept_form(person)
    for _ in range(3):
        assert json_accept(person, birth_date=FIFTEEN).json()["code"] == "age-below-minimum"
    assert [entry.kind for entry in entries(harness)].count("age_result") == 2  # the adult band, then under-16 once
