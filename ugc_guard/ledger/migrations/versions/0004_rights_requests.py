"""Privacy-request log and run locks: operational tables beside the evidence chain.

Revision ID: 0004
Revises: 0003

``ledger_requests`` is the operator's log of privacy requests that arrived by e-mail (received
date, regime, kind, whether the deadline was extended, when it was answered). It changes as the
request is worked on, so it is not part of the hash chain; what answers a request (an export, a
withdrawal, an erasure) is recorded as ledger entries. ``ledger_locks`` holds one row per running
job (the retention run) on SQLite; PostgreSQL uses an advisory lock instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ugc_guard.ledger.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(63), nullable=True),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("regime", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("received", sa.Date, nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("extended", sa.Boolean, nullable=False),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("outcome", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_requests")),
    )
    op.create_index(op.f("ix_ledger_requests_closed_on_received"), "ledger_requests", ["closed_on", "received"])
    op.create_table(
        "ledger_locks",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", UTCDateTime, nullable=False),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ledger_locks")),
    )


def downgrade() -> None:
    op.drop_table("ledger_locks")
    op.drop_table("ledger_requests")
