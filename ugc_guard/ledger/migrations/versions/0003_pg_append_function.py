"""PostgreSQL: append a batch to a campaign chain in one server-side call.

The client computes each entry's canonical header except its position and previous hash (which
only the chain head knows) and sends the pieces; the function locks the head, fills those two in,
hashes with sha256() and inserts. The lock is then held only while the server works, never while a
client waits for its turn on a busy CPU. SQLite appends in Python under its database lock.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION ugc_ledger_append(
    p_campaign text, p_ids bigint[], p_kinds text[], p_subjects text[], p_refs bigint[], p_contents text[],
    p_terms text[], p_statuses text[], p_bodies text[], p_prefixes text[], p_suffixes text[], p_at timestamptz
) RETURNS TABLE (entry_position bigint, entry_previous text, entry_hash text) LANGUAGE plpgsql AS $$
DECLARE
    v_position bigint;
    v_previous text;
    v_hash text;
BEGIN
    SELECT h.position, h.hash INTO v_position, v_previous FROM ledger_chain_heads h WHERE h.campaign = p_campaign FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO ledger_chain_heads (campaign, position, hash, updated_at) VALUES (p_campaign, 0, '', p_at)
            ON CONFLICT (campaign) DO NOTHING;
        SELECT h.position, h.hash INTO v_position, v_previous FROM ledger_chain_heads h WHERE h.campaign = p_campaign FOR UPDATE;
    END IF;
    FOR i IN 1 .. array_length(p_ids, 1) LOOP
        v_position := v_position + 1;
        v_hash := encode(sha256(convert_to(
            'ugc-ledger/1' || chr(10) || p_prefixes[i] || ',' || v_position::text || ',"' || v_previous || '"'
            || p_suffixes[i] || chr(10) || p_bodies[i], 'UTF8')), 'hex');
        INSERT INTO ledger_entries (id, campaign, position, kind, subject, recorded_at, ref, content_sha256, terms_version,
                                    status, body, previous_hash, hash)
            VALUES (p_ids[i], p_campaign, v_position, p_kinds[i], p_subjects[i], p_at, p_refs[i], p_contents[i], p_terms[i],
                    p_statuses[i], p_bodies[i], v_previous, v_hash);
        entry_position := v_position;
        entry_previous := v_previous;
        entry_hash := v_hash;
        RETURN NEXT;
        v_previous := v_hash;
    END LOOP;
    UPDATE ledger_chain_heads SET position = v_position, hash = v_previous, updated_at = p_at WHERE campaign = p_campaign;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ugc_ledger_append")
