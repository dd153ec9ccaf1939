"""Retention runs on a real ledger: what falls due, the deletion hook, idempotent re-runs, failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from tests.pages.me.fill import CAMPAIGN, SECRET, person
from ugc_guard.hooks import HookFailed
from ugc_guard.ledger import ERASED, Ledger
from ugc_guard.policy import Policy
from ugc_guard.retention import run_retention

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=100)  # past P3M / P90D for everything recorded today
UNUSED_AND_ALL = {"retention": {"unused_submissions": {"period": "P3M"}, "submissions": {"period": "P1Y"}}}


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    ledger = Ledger(ledger_url, secret=SECRET)
    ledger.upgrade()
    return ledger


class Hook:
    """Collects deletion events; refuses the batches that contain ``refuse``."""

    def __init__(self, refuse: set[int] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.refuse = refuse or set()

    def __call__(self, event: dict[str, Any]) -> None:
        ids = {item["submission_id"] for item in event["files"]}
        if ids & self.refuse:
            raise HookFailed("hook tests: storage refused")
        self.events.append(event)

    @property
    def deleted(self) -> list[int]:
        return [item["submission_id"] for event in self.events for item in event["files"]]


def test_unused_submissions_expire_used_ones_are_exempt_and_a_second_run_does_nothing(
    ledger: Ledger, make_policy: Callable[..., Policy]
) -> None:
    policy = make_policy(UNUSED_AND_ALL)
    ids = person(ledger, "alice", 3) + person(ledger, "bob", 2)
    ledger.mark_used(ids[1], production="episode 4")
    hook = Hook()
    report = run_retention(ledger, policy, now=LATER, deliver=hook, batch=2)
    assert report.ok and report.checked == 5 and report.expired == 4
    assert sorted(hook.deleted) == sorted(set(ids) - {ids[1]})
    assert {row.id for row in ledger.submissions(status="expired").items} == set(ids) - {ids[1]}
    entries = ledger.grants(ids[0])
    (action,) = [entry for entry in entries if entry.kind == "retention_action"]
    assert action.data == {"action": "deleted", "target_entry": ids[0], "rule": "unused_submissions", "period": "P3M", "anchor": "uploaded"}
    assert ledger.verify().ok

    again = run_retention(ledger, policy, now=LATER, deliver=hook, batch=2)
    assert again.checked == 1 and again.expired == 0 and again.due == []
    assert len(hook.deleted) == 4
    # the used one still falls under the all-submissions rule a year on
    final = run_retention(ledger, policy, now=LATER + dt.timedelta(days=300), deliver=hook)
    assert final.expired == 1 and hook.deleted[-1] == ids[1]


def test_a_failing_hook_leaves_its_batch_undone_the_run_carries_on_and_a_rerun_retries(
    ledger: Ledger, make_policy: Callable[..., Policy]
) -> None:
    policy = make_policy({"retention": {"submissions": {"period": "P90D"}}})
    ids = person(ledger, "alice", 6)
    failing = Hook(refuse={ids[2]})
    report = run_retention(ledger, policy, now=LATER, deliver=failing, batch=2)
    assert not report.ok and report.expired == 4
    assert report.failed == [([ids[2], ids[3]], "hook tests: storage refused")]
    assert {row.id for row in ledger.submissions(status="expired").items} == set(ids) - {ids[2], ids[3]}
    assert not [entry for entry in ledger.grants(ids[2]) if entry.kind == "retention_action"]

    healed = Hook()
    retry = run_retention(ledger, policy, now=LATER, deliver=healed, batch=2)
    assert retry.ok and retry.expired == 2 and healed.deleted == [ids[2], ids[3]]


def test_dry_run_lists_and_changes_nothing(ledger: Ledger, make_policy: Callable[..., Policy]) -> None:
    policy = make_policy({"retention": {"submissions": {"period": "P90D"}}})
    ids = person(ledger, "alice", 2)
    before = ledger.stats()
    report = run_retention(ledger, policy, now=LATER, dry_run=True, deliver=Hook())
    assert [due.target for due in report.due] == ids and report.expired == 0
    assert ledger.stats() == before
    assert run_retention(ledger, policy, deliver=Hook()).due == []  # not yet due today


def test_campaign_end_anchor_waits_for_the_end_date(ledger: Ledger, make_policy: Callable[..., Policy]) -> None:
    person(ledger, "alice", 1)
    open_ended = make_policy({"retention": {"submissions": {"period": "P1M", "anchor": "campaign_end"}}})
    assert run_retention(ledger, open_ended, now=LATER, deliver=Hook()).due == []
    ended = make_policy({"campaign": {"ends": (LATER - dt.timedelta(days=40)).date().isoformat()},
                         "retention": {"submissions": {"period": "P1M", "anchor": "campaign_end"}}})
    assert run_retention(ledger, ended, now=LATER, deliver=Hook()).expired == 1


def test_personal_data_retention_erases_keys_and_the_chain_still_verifies(ledger: Ledger, make_policy: Callable[..., Policy]) -> None:
    policy = make_policy({"retention": {"personal_data": {"period": "P6M"}}})
    person(ledger, "alice", 1, guardian_email="mum@example.org")
    assert run_retention(ledger, policy, now=LATER, deliver=Hook()).subjects_erased == 0
    report = run_retention(ledger, policy, now=LATER + dt.timedelta(days=200), deliver=Hook())
    assert report.subjects_erased == 1
    history = ledger.history("alice", campaign=CAMPAIGN).items
    personal = [entry.data[name] for entry in history for name in ("client_address", "user_agent", "original_name", "guardian_email")
                if name in entry.data]
    assert personal and set(personal) == {ERASED}
    assert ledger.verify().ok
    assert run_retention(ledger, policy, now=LATER + dt.timedelta(days=200), deliver=Hook()).subjects_erased == 0
