"""The request log's deadlines as rows for operators (plain functions over logged requests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from ..ledger.requests import RightsRequest
from ..rules.deadlines import Regime, deadlines

__all__ = ["due_rows"]


def due_rows(requests: Iterable[RightsRequest], on: dt.date) -> list[dict[str, Any]]:
    """Return one row per request with its deadlines, soonest answer date first: ``confirm_by`` (CCPA),
    ``answer_by`` (the extended date once the requester was told), ``days_left`` and ``overdue``."""
    rows = []
    for request in requests:
        regime: Regime = "ccpa" if request.regime == "ccpa" else "gdpr"
        due = deadlines(regime, request.received)
        answer_by = due.due(extended=request.extended)
        rows.append({
            "id": request.id, "regime": request.regime, "kind": request.kind, "received": request.received.isoformat(),
            "confirm_by": due.confirm_by.isoformat() if due.confirm_by else None, "answer_by": answer_by.isoformat(),
            "extended": request.extended, "extension_possible_until": due.extended_answer_by.isoformat(),
            "days_left": (answer_by - on).days, "overdue": request.closed_on is None and answer_by < on,
            "closed_on": request.closed_on.isoformat() if request.closed_on else None, "outcome": request.outcome,
            "campaign": request.campaign, "subject": request.subject, "reference": request.reference,
        })
    return sorted(rows, key=lambda row: (row["answer_by"], row["id"]))
