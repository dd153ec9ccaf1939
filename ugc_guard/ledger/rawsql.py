"""The append hot path in plain SQL on the driver's cursor (one statement string per dialect).

SQLAlchemy Core costs ~0.1 ms of Python per statement; an append runs five, under a lock that
every writer waits for, so the hot path skips it. The SQL is the same on both databases except the
placeholder style and how times are bound (SQLite stores SQLAlchemy's naive-UTC text form).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection

__all__ = ["Raw"]

ENTRY_COLUMNS = ("id", "campaign", "position", "kind", "subject", "recorded_at", "ref", "content_sha256", "terms_version",
                 "status", "body", "previous_hash", "hash")


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
        columns = tuple(values)
        placeholders = ", ".join("?" for _ in columns)
        assignments = ", ".join(f"{column} = excluded.{column}" for column in update)
        statement = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "
                     f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}")
        self.execute(statement, tuple(self.value(values[column]) for column in columns))


@cache
def _pyformat(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")


@cache
def _insert_entries(count: int) -> str:
    row = "(" + ", ".join("?" for _ in ENTRY_COLUMNS) + ")"
    return f"INSERT INTO ledger_entries ({', '.join(ENTRY_COLUMNS)}) VALUES " + ", ".join([row] * count)
