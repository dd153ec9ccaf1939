"""Each campaign's Merkle tree (RFC 6962) over its entries, for inclusion and consistency proofs.

Revision ID: 0006
Revises: 0005

``ledger_tree_nodes`` holds the hash of every complete subtree of 4 levels (16 leaves) or more (see
``ugc_guard.ledger.tree``); smaller subtrees are hashed from the entries' own hashes when needed.
PostgreSQL's ``ugc_ledger_append`` now also stores the subtrees completed by an entry that completes
a tile of 16 leaves, in the same call and under the same chain lock; SQLite (and PostgreSQL appends
with a guard) do it in Python in the append's transaction.
Existing ledgers are backfilled from their entries.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
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
    v_node bytea;
    v_sibling bytea;
    v_row bytea[];
    v_next bytea[];
    v_level integer;
    v_one bytea;
    v_zero bytea;
    v_index bigint;
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
        -- the entry that completes a tile of 16 leaves stores the subtrees of level 4 and up it completes
        IF v_position % 16 = 0 THEN
            v_zero := decode('00', 'hex');
            -- ordered by position: the (campaign, position) index gives that order, so even a plan cached while
            -- the table had no statistics uses it (the (campaign, kind, id) index would also need a sort)
            v_row := ARRAY(SELECT sha256(v_zero || decode(e.hash, 'hex')) FROM ledger_entries e
                           WHERE e.campaign = p_campaign AND e.position > v_position - 16 AND e.position <= v_position
                           ORDER BY e.position);
            IF coalesce(array_length(v_row, 1), 0) <> 16 THEN
                RAISE EXCEPTION 'the Merkle tree of campaign % lacks stored nodes; run ugc-guard proof tree --rebuild', p_campaign
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            v_one := decode('01', 'hex');  -- here, not in DECLARE: 15 appends in 16 never need it
            WHILE array_length(v_row, 1) > 1 LOOP
                v_next := ARRAY[]::bytea[];
                FOR j IN 1 .. array_length(v_row, 1) / 2 LOOP
                    v_next := v_next || sha256(v_one || v_row[2 * j - 1] || v_row[2 * j]);
                END LOOP;
                v_row := v_next;
            END LOOP;
            v_node := v_row[1];
            v_level := 4;
            v_index := v_position / 16 - 1;
            INSERT INTO ledger_tree_nodes (campaign, level, idx, hash) VALUES (p_campaign, v_level, v_index, v_node);
            WHILE v_index % 2 = 1 LOOP
                SELECT n.hash INTO v_sibling FROM ledger_tree_nodes n
                    WHERE n.campaign = p_campaign AND n.level = v_level AND n.idx = v_index - 1;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'the Merkle tree of campaign % lacks stored nodes; run ugc-guard proof tree --rebuild', p_campaign
                        USING ERRCODE = 'object_not_in_prerequisite_state';
                END IF;
                v_node := sha256(v_one || v_sibling || v_node);
                v_level := v_level + 1;
                v_index := v_index / 2;
                INSERT INTO ledger_tree_nodes (campaign, level, idx, hash) VALUES (p_campaign, v_level, v_index, v_node);
            END LOOP;
        END IF;
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
    op.create_table(
        "ledger_tree_nodes",
        sa.Column("campaign", sa.String(63), nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("idx", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("campaign", "level", "idx", name=op.f("pk_ledger_tree_nodes")),
        sqlite_with_rowid=False,  # one B-tree (the key) instead of a rowid table plus its key index
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(FUNCTION)
    from ugc_guard.ledger.tree import rebuild

    for (campaign,) in bind.execute(sa.text("SELECT campaign FROM ledger_chain_heads ORDER BY campaign")).fetchall():
        rebuild(bind, campaign)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        previous = importlib.import_module("ugc_guard.ledger.migrations.versions.0003_pg_append_function")
        op.execute(previous.FUNCTION)
    op.drop_table("ledger_tree_nodes")
