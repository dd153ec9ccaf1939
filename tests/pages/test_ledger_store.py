"""The whole gate on both databases: adult and minor flows, status, re-confirmations (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .conftest import CSRF_RE, Harness, accept_form

SEVENTEEN = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()


def test_flows_on_each_database(make_harness: Callable[..., Harness], ledger_url: str) -> None:
    harness = make_harness({"age": {"guardian_minimum": 16}}, ledger_url=ledger_url)
    adult, minor = harness.client(), harness.client()
    assert accept_form(adult).status_code == 303
    assert adult.post("/upload", content=b"x").status_code == 200
    assert accept_form(minor, birth_date=SEVENTEEN, guardian_email="p@example.org").status_code == 303
    assert minor.post("/upload", content=b"x").json()["code"] == "guardian-consent-pending"
    guardian = harness.client()
    page = guardian.get(harness.outbox.path())
    match = CSRF_RE.search(page.text)
    assert match is not None
    data = {"csrf_token": match.group(1), "token": harness.outbox.token(), "guardian_name": "P", "relationship": "guardian",
            "accept_terms": "yes", "accept_licence": "yes"}  # fmt: skip
    assert guardian.post("/ugc-guard/guardian/confirm", data=data).status_code == 200
    assert guardian.post("/ugc-guard/guardian/confirm", data=data).status_code == 410
    assert minor.post("/upload", content=b"x").status_code == 200
    ledger = harness.gate.ledger
    import anyio

    due = anyio.run(ledger.due_reconfirmations, "test-campaign", dt.date.today() + dt.timedelta(days=800))
    assert [row.age_band for row in due] == ["16-17"]
