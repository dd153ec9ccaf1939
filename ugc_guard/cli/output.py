"""One set of output options for every listing command (sqlite-utils' habit)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

from .table import write_table

__all__ = ["emit", "format_option"]

F = TypeVar("F", bound=Callable[..., Any])


def format_option(function: F) -> F:
    """Add ``--format table|json|jsonl|csv`` (default json) to a command."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["json", "jsonl", "csv", "table"]),
        default="json",
        show_default=True,
        help="Output format.",
    )(function)


def emit(rows: Iterable[Mapping[str, Any]], output_format: str, *, out: Any = None,
         table_columns: Sequence[str] = ()) -> int:
    """Write rows in the chosen format, streaming where the format allows; return how many were written.
    A table fits the terminal (see :mod:`.table`) and shows only ``table_columns`` when given."""
    out = out or sys.stdout
    count = 0
    if output_format == "jsonl":
        for row in rows:
            out.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
            count += 1
    elif output_format == "json":
        out.write("[")
        for row in rows:
            out.write(("," if count else "") + "\n  " + json.dumps(row, default=str, ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
    elif output_format == "csv":
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row), extrasaction="ignore")
                writer.writeheader()
            writer.writerow({key: _cell(value) for key, value in row.items()})
            count += 1
    else:
        materialised = [{key: _cell(value) for key, value in row.items()} for row in rows]
        count = len(materialised)
        if table_columns and materialised:
            materialised = [{key: row.get(key, "") for key in table_columns} for row in materialised]
        write_table(materialised, out)
    return count


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return "" if value is None else value
