"""Entries chain, chain heads and subject keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ugc_guard.ledger.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("ref", sa.BigInteger, nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=True),
        sa.Column("terms_version", sa.String(64), nullable=True),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("campaign", "position", name=op.f("uq_ledger_entries_campaign_position")),
    )
    op.create_index(op.f("ix_ledger_entries_subject_id"), "ledger_entries", ["subject", "id"])
    op.create_index(op.f("ix_ledger_entries_content_sha256"), "ledger_entries", ["content_sha256"])
    op.create_index(op.f("ix_ledger_entries_campaign_kind_id"), "ledger_entries", ["campaign", "kind", "id"])
    op.create_index(op.f("ix_ledger_entries_ref"), "ledger_entries", ["ref"])
    op.create_table(
        "ledger_chain_heads",
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("campaign", name=op.f("pk_ledger_chain_heads")),
    )
    op.create_table(
        "ledger_subject_keys",
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("erased_at", UTCDateTime, nullable=True),
        sa.PrimaryKeyConstraint("campaign", "subject", name=op.f("pk_ledger_subject_keys")),
    )


def downgrade() -> None:
    op.drop_table("ledger_subject_keys")
    op.drop_table("ledger_chain_heads")
    op.drop_table("ledger_entries")
