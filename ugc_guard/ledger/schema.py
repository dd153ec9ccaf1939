"""Run the migrations shipped in the package and check a database's schema revision."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .engine import WRITE
from .errors import SchemaOutdated

__all__ = ["VERSION_TABLE", "check_schema", "current_revision", "head_revision", "upgrade"]

VERSION_TABLE = "ugc_guard_ledger_version"
SCRIPT_LOCATION = "ugc_guard.ledger:migrations"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """Return the newest migration revision shipped with this version of ugc_guard."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no ledger migrations found in the package")
    return head


def current_revision(connection: Connection) -> str | None:
    """Return the database's ledger schema revision, or ``None`` when it has no ledger tables."""
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the ledger schema to ``revision`` (default: the newest); return the revision reached.

    On PostgreSQL an advisory lock keeps several app instances from migrating at once; on SQLite the
    transaction begins with BEGIN IMMEDIATE, so a second process waits and then finds the tables.
    """
    with engine.connect().execution_options(**WRITE) as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(827340019)"))
        command.upgrade(_config(connection), revision)
        return current_revision(connection)


def check_schema(connection: Connection, where: str) -> None:
    """Raise :class:`SchemaOutdated` unless the database is at the newest ledger revision."""
    current = current_revision(connection)
    if current == head_revision():
        return
    if current is None:
        raise SchemaOutdated(f"{where} has no ledger tables; run ugc-guard db upgrade (or Ledger.upgrade())")
    raise SchemaOutdated(
        f"{where} has ledger schema {current}, this ugc_guard needs {head_revision()}; run ugc-guard db upgrade"
    )
