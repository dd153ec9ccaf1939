"""Lists as downloads: CSV (spreadsheet-safe) and JSON, with every value in full."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

__all__ = ["export", "spreadsheet_safe"]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")  # OWASP's list, and ASVS 1.2.10's NUL


def spreadsheet_safe(value: Any) -> Any:
    """Return a CSV cell that a spreadsheet will not run as a formula: text starting with ``= + - @``,
    a tab, a carriage return or NUL gets a leading apostrophe (numbers are left as they are)."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export(rows: Sequence[Mapping[str, Any]], output_format: str, name: str) -> Response:
    """Return ``rows`` as a CSV or JSON download named ``name``."""
    if output_format == "json":
        body = json.dumps(list(rows), ensure_ascii=False, indent=2, default=str) + "\n"
        return Response(body, media_type="application/json",
                        headers={"content-disposition": f'attachment; filename="{name}.json"'})
    out = io.StringIO()
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: spreadsheet_safe(row.get(key)) for key in columns})
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}.csv"'})
