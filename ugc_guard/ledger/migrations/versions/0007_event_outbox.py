"""The webhook outbox: events waiting for delivery to the operator's endpoints, beside the evidence chain.

Revision ID: 0007
Revises: 0006

``ugc_guard_outbox`` holds one row per event and endpoint. It is operational, not evidence: rows
change as delivery is attempted (``pending`` → ``delivered``, or ``dead`` after the last attempt)
and may be deleted once delivered. Payloads hold ids and hashes only, never personal data.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ugc_guard.ledger.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ugc_guard_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("endpoint", sa.String(2048), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("lease_until", UTCDateTime, nullable=True),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ugc_guard_outbox")),
    )
    op.create_index(op.f("ix_ugc_guard_outbox_status_next_attempt_at"), "ugc_guard_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("ugc_guard_outbox")
