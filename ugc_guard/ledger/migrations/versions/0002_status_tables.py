"""Derived status tables: latest subject status and current submission status.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ugc_guard.ledger.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_subject_status",
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("terms_version", sa.String(64), nullable=True),
        sa.Column("acceptance_id", sa.BigInteger, nullable=True),
        sa.Column("accepted_at", UTCDateTime, nullable=True),
        sa.Column("capacity", sa.String(20), nullable=True),
        sa.Column("age_band", sa.String(20), nullable=True),
        sa.Column("age_assurance", sa.String(40), nullable=True),
        sa.Column("guardian_status", sa.String(20), nullable=False),
        sa.Column("guardians_confirmed", sa.Integer, nullable=False),
        sa.Column("reconfirm", sa.Boolean, nullable=False),
        sa.Column("reconfirm_due", sa.Date, nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("campaign", "subject", name=op.f("pk_ledger_subject_status")),
    )
    op.create_index(op.f("ix_ledger_subject_status_campaign_reconfirm_due"), "ledger_subject_status", ["campaign", "reconfirm_due"])
    op.create_table(
        "ledger_submission_status",
        sa.Column("submission_id", sa.BigInteger, nullable=False),
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("submission_id", name=op.f("pk_ledger_submission_status")),
    )
    op.create_index(
        op.f("ix_ledger_submission_status_campaign_status_submission_id"),
        "ledger_submission_status",
        ["campaign", "status", "submission_id"],
    )


def downgrade() -> None:
    op.drop_table("ledger_submission_status")
    op.drop_table("ledger_subject_status")
