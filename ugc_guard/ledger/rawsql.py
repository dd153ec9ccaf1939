"""The append hot path in plain SQL on the driver's cursor (one statement string per dialect).

SQLAlchemy Core costs ~0.1 ms of Python per statement; an append runs five, under a lock that
every writer waits for, so the hot path skips it. The SQL is the same on both databases except the
placeholder style and how times are bound (SQLite stores SQLAlchemy's naive-UTC text form).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection

__all__ = ["Raw", "Upsert", "merged"]

ENTRY_COLUMNS = ("id", "campaign", "position", "kind", "subject", "recorded_at", "ref", "content_sha256", "terms_version",
                 "status", "body", "previous_hash", "hash")


@dataclass(frozen=True, slots=True)
class Upsert:
    """One row to INSERT … ON CONFLICT (``keys``) DO UPDATE SET the ``update`` columns; ``values`` holds
    every inserted column (the key columns among them)."""

    table: str
    keys: tuple[str, ...]
    values: dict[str, Any]
    update: tuple[str, ...]


def merged(rows: Sequence[Upsert]) -> list[Upsert]:
    """Return ``rows`` with every later row for the same table and key folded into the first: the same
    result as upserting them one after another (the second of two finds the row and sets only its
    ``update`` columns), but at most one row per key, as one multi-row upsert statement needs."""
    folded: dict[tuple[Any, ...], Upsert] = {}
    for row in rows:
        key = (row.table, row.keys, *(row.values[column] for column in row.keys))
        earlier = folded.get(key)
        if earlier is None:
            folded[key] = row
            continue
        values = earlier.values | {column: row.values[column] for column in row.update}
        update = earlier.update + tuple(column for column in row.update if column not in earlier.update)
        folded[key] = Upsert(row.table, row.keys, values, update)
    return list(folded.values())


class Raw:
    """A DBAPI cursor on the connection's current transaction, with dialect-aware SQL and values."""

    def __init__(self, connection: Connection) -> None:
        self.postgres = connection.dialect.name == "postgresql"
        self.dbapi: Any = connection.dialect.loaded_dbapi
        self.cursor: Any = connection.connection.cursor()

    def sql(self, statement: str) -> str:
        return _pyformat(statement) if self.postgres else statement

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        """Execute on the cursor; a driver error becomes SQLAlchemy's matching exception (IntegrityError…)."""
        with self.wrapped(statement):
            self.cursor.execute(self.sql(statement), params)
        return self.cursor

    @contextmanager
    def wrapped(self, statement: str) -> Iterator[None]:
        try:
            yield
        except self.dbapi.Error as error:
            raise exc.DBAPIError.instance(statement, None, error, self.dbapi.Error) from error

    def time(self, moment: dt.datetime) -> Any:
        if self.postgres:
            return moment
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def date(self, day: dt.date | None) -> Any:
        return day.isoformat() if day is not None and not self.postgres else day

    def value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return self.time(value)
        if isinstance(value, dt.date):
            return self.date(value)
        return value

    def insert_entries(self, rows: list[tuple[Any, ...]]) -> None:
        self.execute(_insert_entries(len(rows)), tuple(value for row in rows for value in row))

    def upsert(self, table: str, keys: tuple[str, ...], values: dict[str, Any], update: tuple[str, ...]) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE SET the ``update`` columns (same syntax on both databases)."""
        self.upsert_rows([Upsert(table, keys, values, update)])

    def upsert_rows(self, rows: Sequence[Upsert]) -> None:
        """Upsert ``rows`` as if one after another, in one statement per table and set of columns
        (rows for the same key folded by :func:`merged` first)."""
        groups: dict[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], list[Upsert]] = {}
        for row in merged(rows):
            groups.setdefault((row.table, row.keys, tuple(row.values), row.update), []).append(row)
        for (table, keys, columns, update), group in groups.items():
            if self.postgres:  # one JSON parameter typed by the table's own row type: psycopg re-parses a query of over 50 parameters each time
                text = _json([row.values for row in group])
                self.execute(_upsert_json(table, keys, columns, update), (text,))
            else:
                params = tuple(self.value(value) for row in group for value in row.values.values())
                self.execute(_upsert(table, keys, columns, update, len(group)), params)


@cache
def _pyformat(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")


def _json_value(value: Any) -> str:
    if isinstance(value, dt.date):  # datetime too: ISO 8601 with microseconds and offset, exact for timestamptz
        return value.isoformat()
    raise TypeError(f"no JSON form for a {type(value).__name__} in an upserted row")


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_json_value).encode


@lru_cache(maxsize=64)
def _upsert_json(table: str, keys: tuple[str, ...], columns: tuple[str, ...], update: tuple[str, ...]) -> str:
    names = ", ".join(columns)
    assignments = ", ".join(f"{column} = excluded.{column}" for column in update)
    return (f"INSERT INTO {table} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{table}, ?::json) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}")


@lru_cache(maxsize=512)
def _upsert(table: str, keys: tuple[str, ...], columns: tuple[str, ...], update: tuple[str, ...], count: int) -> str:
    row = "(" + ", ".join("?" for _ in columns) + ")"
    assignments = ", ".join(f"{column} = excluded.{column}" for column in update)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * count)} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}")


@cache
def _insert_entries(count: int) -> str:
    row = "(" + ", ".join("?" for _ in ENTRY_COLUMNS) + ")"
    return f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) VALUES " + ", ".join([row] * count)
