"""Submissions are ``received`` until the app answered: wider status columns and the recording worker.

Revision ID: 0005
Revises: 0004

``not stored (unconfirmed)`` is longer than the 20 characters the status columns had, so both status
columns become 40 wide (on PostgreSQL a metadata-only change; SQLite does not enforce VARCHAR
lengths, and rebuilding ``ledger_entries`` in batch mode would copy the whole evidence table for
nothing). ``ledger_submission_status.owner`` names the worker process that recorded a ``received``
submission, so a restarted worker can tell the ones a dead process left behind.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ledger_submission_status", sa.Column("owner", sa.String(80), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        for table in ("ledger_entries", "ledger_submission_status"):
            op.alter_column(table, "status", type_=sa.String(40), existing_type=sa.String(20))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table in ("ledger_entries", "ledger_submission_status"):
            op.alter_column(table, "status", type_=sa.String(20), existing_type=sa.String(40))
    with op.batch_alter_table("ledger_submission_status") as batch:
        batch.drop_column("owner")
