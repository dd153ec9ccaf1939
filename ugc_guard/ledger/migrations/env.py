"""Alembic environment for the ledger: always run from code with a connection handed in."""

from __future__ import annotations

from alembic import context

from ugc_guard.ledger.models import Base

VERSION_TABLE = "ugc_guard_ledger_version"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run ledger migrations through Ledger.upgrade() or `ugc-guard db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
