"""The subject export (GDPR Art. 15 access and Art. 20 portability), built from ledger entries.

Plain functions over entry dicts (``EntryView.as_dict()``): no database, no web framework. The
document's shape is ``ugc-guard-subject-export/1``, described in docs/rights.md and
``export.schema.json`` beside this module. It holds every entry recorded under the subject's
pseudonym in one campaign, and per submission its metadata, grants, status and what can still be
withdrawn. Nothing about anyone else: the guardian's own name and relationship (given by the
guardian, not by the subject) are withheld; the subject's own entries are the only input.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "GONE", "WITHHELD", "build_export", "export_schema", "submission_summaries"]

FORMAT = "ugc-guard-subject-export/1"
WITHHELD = "[withheld: personal data of the guardian]"
GONE = frozenset({"withdrawn", "expired", "erased"})
"""Statuses after which portrait consent cannot be withdrawn any more (already taken down or deleted)."""
_OTHERS_FIELDS = {"guardian_confirmed": ("guardian_name", "relationship")}


def _redacted(entry: Mapping[str, Any]) -> dict[str, Any]:
    hidden = _OTHERS_FIELDS.get(entry["kind"])
    if not hidden:
        return dict(entry)
    data = {key: (WITHHELD if key in hidden else value) for key, value in entry["data"].items()}
    return {**entry, "data": data}


def submission_summaries(entries: Iterable[Mapping[str, Any]], *, portrait_withdrawable: bool = True) -> list[dict[str, Any]]:
    """Return one summary per submission among ``entries`` (the subject's history, oldest first):
    its metadata, licence and portrait grants, current status (``received`` until the app answered; why,
    for a later status), production uses and whether its portrait consent can still be withdrawn."""
    summaries: dict[int, dict[str, Any]] = {}
    for entry in entries:
        kind, data = entry["kind"], entry["data"]
        if kind == "submission":
            summaries[entry["id"]] = {
                "submission_id": entry["id"], "recorded_at": entry["recorded_at"],
                "content_sha256": data.get("content_sha256"), "canonical_sha256": data.get("canonical_sha256"),
                "size": data.get("size"), "declared_type": data.get("declared_type"),
                "detected_type": data.get("detected_type"), "original_name": data.get("original_name"),
                "acceptance_entry": data.get("acceptance_entry"), "status": data.get("status", "accepted"),
                "status_reason": None, "licence_grant": None, "portrait_grant": None, "portrait_withdrawn": False, "used_in": [],
            }
            continue
        target = summaries.get(entry.get("ref") or -1)
        if target is None:
            continue
        if kind == "licence_grant":
            target["licence_grant"] = {"entry_id": entry["id"], **data}
        elif kind == "portrait_grant":
            target["portrait_grant"] = {"entry_id": entry["id"], **data}
        elif kind == "submission_status":
            target["status"] = data.get("status", target["status"])
            target["status_reason"] = data.get("reason")
        elif kind == "withdrawal":
            target["portrait_withdrawn"] = True
        elif kind == "mark_used":
            target["used_in"].append({"production": data.get("production"), "used_on": data.get("used_on")})
    for summary in summaries.values():
        grant = summary["portrait_grant"] or {}
        summary["on_takedown_list"] = summary["status"] == "withdrawn"
        summary["can_withdraw_portrait"] = (portrait_withdrawable and grant.get("withdrawable", True)
                                            and summary["status"] not in GONE)
    return list(summaries.values())


def build_export(
    campaign: str, subject: str, entries: Iterable[Mapping[str, Any]], *, erased: bool = False,
    controller: Mapping[str, Any] | None = None, portrait_withdrawable: bool = True,
    generated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Return the export document of ``subject`` in ``campaign`` from their entries (oldest first).

    Entries of another subject or campaign are ignored, so a caller's mistake cannot leak them.
    """
    own = [_redacted(entry) for entry in entries if entry["subject"] == subject and entry["campaign"] == campaign]
    moment = (generated_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {
        "format": FORMAT,
        "generated_at": moment.isoformat().replace("+00:00", "Z"),
        "campaign": campaign,
        "subject": subject,
        "controller": dict(controller) if controller else None,
        "erased": erased,
        "acceptances": [
            {"entry_id": e["id"], "recorded_at": e["recorded_at"], "terms_version": e["terms_version"],
             "document_id": e["data"].get("document_id"), "text_sha256": e["data"].get("text_sha256"),
             "language": e["data"].get("language"), "collection_method": e["data"].get("collection_method"),
             "capacity": e["data"].get("capacity"), "licence": e["data"].get("licence")}
            for e in own if e["kind"] == "terms_acceptance"
        ],
        "submissions": submission_summaries(own, portrait_withdrawable=portrait_withdrawable),
        "withdrawals": [
            {"entry_id": e["id"], "recorded_at": e["recorded_at"], "scope": e["data"].get("scope"),
             "target_entry": e["data"].get("target_entry"), "reason": e["data"].get("reason")}
            for e in own if e["kind"] in ("withdrawal", "guardian_withdrawn")
        ],
        "entries": own,
    }


@cache
def export_schema() -> dict[str, Any]:
    """Return the JSON Schema of the export document (``export.schema.json``)."""
    return json.loads((Path(__file__).with_name("export.schema.json")).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
