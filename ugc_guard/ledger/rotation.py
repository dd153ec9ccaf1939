"""Secret rotation: re-wrap every per-subject key under the newest secret, so an older one can go.

A subject key opened by an older listed secret is wrapped again with the newest one. Each batch is
one transaction and each row is written only if it still holds the wrapped key that was read
(compare and swap), so a subject erased meanwhile stays erased and a running site may keep writing.
Running it again changes nothing: every key then opens with the newest secret. Nothing in the hash
chain changes (sealed fields are encrypted with the subject key, which stays the same), so every
entry hash, receipt and checkpoint still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, tuple_, update

from .core import LedgerCore
from .engine import WRITE, translate_errors
from .errors import LedgerError
from .models import SubjectKey

__all__ = ["Rotation", "rewrap_subject_keys"]

BATCH = 500
_SWAP = (
    update(SubjectKey)
    .where(SubjectKey.campaign == bindparam("c"), SubjectKey.subject == bindparam("s"), SubjectKey.wrapped_key == bindparam("old"))
    .values(wrapped_key=bindparam("new"))
)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What :func:`rewrap_subject_keys` did, in counts (never which subjects)."""

    rewrapped: int = 0
    """Keys that an older secret opened, now wrapped with the newest."""
    current: int = 0
    """Keys already wrapped with the newest secret."""
    erased: int = 0
    """Keys destroyed by erasure (nothing to re-wrap), and keys erased or re-wrapped by another run
    while this one ran (skipped)."""
    unopenable: int = 0
    """Keys that no listed secret opens: left as they are; their secret must stay listed."""

    def __add__(self, other: Rotation) -> Rotation:
        return Rotation(self.rewrapped + other.rewrapped, self.current + other.current,
                        self.erased + other.erased, self.unopenable + other.unopenable)


def rewrap_subject_keys(core: LedgerCore, *, campaign: str | None = None, batch: int = BATCH) -> Rotation:
    """Re-wrap the subject keys (of ``campaign``, or of every campaign) that an older secret wrapped.

    Returns the :class:`Rotation` counts. Raises :class:`LedgerError` without a secret and
    :class:`LedgerUnavailable` when the database cannot be reached (batches done before stay done).
    """
    if not core.sealer.can_open:
        raise LedgerError("re-wrapping subject keys needs the site secret(s); pass --policy or set UGC_GUARD_SECRET")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    total = Rotation()
    after: tuple[str, str] | None = None
    while True:
        done, after = _batch(core, campaign, after, batch)
        total += done
        if after is None:
            return total


def _batch(core: LedgerCore, campaign: str | None, after: tuple[str, str] | None, size: int) -> tuple[Rotation, tuple[str, str] | None]:
    query = select(SubjectKey.campaign, SubjectKey.subject, SubjectKey.wrapped_key)
    if campaign is not None:
        query = query.where(SubjectKey.campaign == campaign)
    if after is not None:
        query = query.where(tuple_(SubjectKey.campaign, SubjectKey.subject) > tuple_(*after))
    query = query.order_by(SubjectKey.campaign, SubjectKey.subject).limit(size)
    current = erased = unopenable = 0
    changes: list[dict[str, object]] = []
    if not core.schema_checked:
        with core.connect():
            pass
    # BEGIN IMMEDIATE on SQLite: the batch reads and writes in one transaction without a lock upgrade
    with translate_errors(core.url), core.engine.connect().execution_options(**WRITE) as connection, connection.begin():
        rows = connection.execute(query).all()
        for row_campaign, subject, wrapped in rows:
            if wrapped is None:
                erased += 1
                continue
            try:
                key, index = core.sealer.unwrap_with_index(row_campaign, subject, bytes(wrapped))
            except LedgerError:
                unopenable += 1
                continue
            if index == 0:
                current += 1
                continue
            changes.append({"c": row_campaign, "s": subject, "old": wrapped, "new": core.sealer.wrap(row_campaign, subject, key)})
        # one statement for the batch (executemany); a row erased (or re-wrapped) since it was read matches nothing
        rewrapped = connection.execute(_SWAP, changes).rowcount if changes else 0
    erased += len(changes) - rewrapped
    last = (rows[-1][0], rows[-1][1]) if len(rows) == size else None
    return Rotation(rewrapped, current, erased, unopenable), last
