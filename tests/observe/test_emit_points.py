"""The events of the guardian page, a retention run and an erasure from the CLI, as queued in the outbox."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.observe.conftest import SECRET, Guarded, Receiver
from tests.pages.conftest import Harness, accept_form
from tests.pages.conftest import make_harness as make_harness  # a fixture, used by name
from tests.pages.test_guardian import SEVENTEEN, confirm
from tests.screening.samples import jpeg, upload_form
from ugc_guard.cli import main
from ugc_guard.ledger import Ledger
from ugc_guard.ledger.outbox import Outbox
from ugc_guard.observe.events import events_for
from ugc_guard.policy import load_policy
from ugc_guard.retention import run_retention


def hooks(receiver: Receiver) -> dict[str, Any]:
    return {"webhooks": [{"url": receiver.url, "secret": SECRET}]}


def data(row: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(row.payload)
    return body


def test_a_guardian_confirmation_is_an_event(request: pytest.FixtureRequest, receiver: Receiver) -> None:
    harness: Harness = request.getfixturevalue("make_harness")({"age": {"guardian_minimum": 16}, "observe": hooks(receiver)})
    minor = harness.client()
    assert accept_form(minor, birth_date=SEVENTEEN, guardian_email="parent@example.org").status_code == 303
    assert confirm(harness).status_code == 200
    worker = events_for(harness.guard.sites[0])
    assert worker is not None
    worker.join(timeout=30)
    rows = list(reversed(Outbox(Ledger(harness.ledger_url)).list()))
    assert [(row.type, row.status) for row in rows] == [("acceptance.recorded", "delivered"), ("guardian.confirmed", "delivered")]
    accepted, confirmed = (data(row)["data"] for row in rows)
    assert accepted["guardians"] == 1 and confirmed["subject_hash"] == accepted["subject_hash"]
    assert isinstance(confirmed["entry_id"], int) and confirmed["entry_id"] > accepted["entry_id"]
    assert "parent@example.org" not in rows[0].payload + rows[1].payload and "Sam Parent" not in rows[1].payload


def test_retention_and_erasure_queue_their_events(guarded: Callable[..., Guarded], receiver: Receiver,
                                                   policy_file: Callable[..., Path]) -> None:
    overrides = {"retention": {"submissions": {"period": "P1D"}}}
    site = guarded(hooks(receiver), **overrides)
    path = policy_file({"observe": hooks(receiver), **overrides})
    assert accept_form(site.client).status_code == 303
    picture = jpeg((70, 50))
    body, content_type = upload_form("me.jpg", "image/jpeg", picture)
    assert site.client.post("/upload", content=body, headers={"content-type": content_type}).status_code == 201
    (submission,) = site.ledger.submissions().items
    subject = str(submission.subject)

    report = run_retention(site.ledger, load_policy(path), now=dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    assert report.expired == 1
    erased = CliRunner().invoke(main, ["subject", "erase", subject, "--yes", "--policy", str(path), "--ledger", site.ledger.url])
    assert erased.exit_code == 0, erased.output

    queued = {row.type: data(row) for row in Outbox(site.ledger).list() if row.type in ("retention.deleted", "subject.erased")}
    digest = hashlib.sha256(picture).hexdigest()
    assert queued["retention.deleted"]["data"]["rule"] == "submissions"
    assert queued["retention.deleted"]["data"]["files"][0]["submission_id"] == submission.id
    assert queued["retention.deleted"]["data"]["files"][0]["content_sha256"] == digest
    assert queued["subject.erased"]["data"] == {"campaign": "test-campaign", "requested_by": "operator", "files": [],
                                                "subject_hash": hashlib.sha256(subject.encode()).hexdigest()[:32]}
    assert subject not in json.dumps(queued)
