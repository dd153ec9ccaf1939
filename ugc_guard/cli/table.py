"""``--format table``: rows as aligned columns that fit the terminal (``COLUMNS`` or its real width).

Only the table is shortened, for reading: hashes keep their first characters and an ellipsis, long
cells are cut with ``…``, and columns that still do not fit are left off (named on standard error).
JSON, JSON lines and CSV always carry every value in full.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import click

__all__ = ["write_table"]

ELLIPSIS = "…"
HASH = re.compile(r"^(sha256:|hmac-sha256:)?[0-9a-f]{32,}$")
TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(\+00:00|Z)$")
HASH_KEEP = 12
"""Characters of a hash kept in a table (enough to tell two apart and to find one with grep)."""
MIN_WIDTH = 8
GAP = "  "


def terminal_width() -> int:
    """Return the width to fit: ``COLUMNS`` when set, else the terminal's, else 100."""
    return max(20, shutil.get_terminal_size((100, 24)).columns)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def _cell(value: Any) -> str:
    text = " ".join(str(value).split())  # one line per row, whatever the value holds
    if HASH.match(text):
        return text[:HASH_KEEP] + ELLIPSIS
    moment = TIME.match(text)
    if moment:  # UTC to the second: the ledger's own times are all UTC
        return f"{moment[1]} {moment[2]}Z"
    return text


def write_table(rows: Sequence[Mapping[str, Any]], out: TextIO, width: int | None = None) -> None:
    """Write ``rows`` as a table no wider than ``width`` (default: the terminal's) characters."""
    if not rows:
        return
    limit = width or terminal_width()
    columns = list(rows[0])
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    natural = [max(len(column), *(len(line[index]) for line in cells)) for index, column in enumerate(columns)]
    widths = _fit(natural, limit)
    shown = len(widths)
    if shown < len(columns):
        left_off = ", ".join(columns[shown:])
        click.echo(f"table: {len(columns) - shown} column(s) left off to fit {limit} characters ({left_off}); "
                   "use --format json or csv for every column", err=True)

    def line(values: Sequence[str]) -> str:
        return GAP.join(_short(value, widths[index]).ljust(widths[index]) for index, value in enumerate(values[:shown])).rstrip()

    out.write(line(columns) + "\n")
    out.write(GAP.join("-" * widths[index] for index in range(shown)) + "\n")
    for values in cells:
        out.write(line(values) + "\n")


def _fit(natural: list[int], limit: int) -> list[int]:
    """Return column widths whose table fits ``limit``: the widest columns shrink first, down to
    ``MIN_WIDTH``; then columns are dropped from the right (always keeping the first)."""
    widths = list(natural)
    while len(widths) > 1 and sum(min(w, MIN_WIDTH) for w in widths) + len(GAP) * (len(widths) - 1) > limit:
        widths.pop()
    while sum(widths) + len(GAP) * (len(widths) - 1) > limit:
        widest = max(range(len(widths)), key=lambda index: widths[index])
        widths[widest] -= 1  # never below MIN_WIDTH unless the first column alone is wider than the limit
    return widths
