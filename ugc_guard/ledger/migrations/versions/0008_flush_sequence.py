"""A sequence whose only use is to make PostgreSQL flush its WAL (group commit's durability barrier).

Revision ID: 0008
Revises: 0007

Group commit (``ugc_guard.ledger.batching``) commits a batch of appends with ``synchronous_commit off``,
so the chain-head lock is free again as soon as the commit record is written, and acknowledges the
batch only after a durable ``SELECT setval('ledger_flush_seq', 1)``: that transaction's commit waits
until the WAL up to its own commit record, and so every earlier commit, is on disk. Batches then
share WAL flushes the way independent inserts do. SQLite needs nothing.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE ledger_flush_seq")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE ledger_flush_seq")
