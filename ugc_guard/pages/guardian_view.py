"""What ``/me`` shows a minor about their parent or guardian: each address they gave, when it was asked
and when it confirmed. The address is the minor's own input (it is in their export too); what the
guardian typed (name, relationship) stays withheld, as in the export."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..rules.standing import Standing

__all__ = ["guardian_view"]


def guardian_view(entries: Iterable[Mapping[str, Any]], standing: Standing, required: int) -> dict[str, Any] | None:
    """Return ``{"asked": [{address, asked_at, confirmed_at}], "waiting": n}`` for the latest acceptance's
    guardian requests, or None when no guardian was ever asked."""
    rows = list(entries)
    confirmed = {str(entry["data"].get("request_entry")): entry["recorded_at"] for entry in rows if entry["kind"] == "guardian_confirmed"}
    asked = [
        {"address": entry["data"].get("guardian_email") or "", "asked_at": entry["recorded_at"], "confirmed_at": confirmed.get(str(entry["id"]))}
        for entry in rows
        if entry["kind"] == "guardian_requested" and (standing.receipt_id is None or str(entry["ref"]) == str(standing.receipt_id))
    ]  # fmt: skip
    waiting = max(required - standing.guardians_confirmed, 0) if standing.guardian_status in ("pending", "confirmed") else 0
    if not asked and not waiting:
        return None
    return {"asked": asked, "waiting": waiting}
