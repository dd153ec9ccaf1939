"""A subject's withdrawal of one consent (``portrait``, ``terms``, ``submission``…) as one entry; a
withdrawn submission also gets the status ``withdrawn``. Withdrawals covering many submissions at
once, and the takedown list, are :mod:`.takedowns`."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .chain import Draft, Stored
from .core import LedgerCore
from .inputs import ClientInfo
from .receipts import Receipt, receipt_for
from .status import set_submission_status

__all__ = ["record_withdrawal"]


def record_withdrawal(
    core: LedgerCore, campaign: str, subject: str, scope: str, *, target_entry: int | None = None,
    reason: str | None = None, client: ClientInfo | None = None,
) -> Receipt:
    """Append the subject's withdrawal of a consent (``scope`` e.g. ``portrait``, ``terms``,
    ``submission``); a withdrawn submission also gets the status ``withdrawn``. Returns the receipt."""
    drafts = [Draft("withdrawal", subject, {"scope": scope, "target_entry": target_entry, "reason": reason},
                    core.evidence(client), ref=target_entry)]
    if scope == "submission" and target_entry is not None:
        drafts.append(Draft("submission_status", subject, {"submission_entry": target_entry, "status": "withdrawn",
                                                           "reason": reason}, ref=target_entry, status="withdrawn"))

    def after(connection: Connection, stored: list[Stored]) -> None:
        if len(stored) > 1 and target_entry is not None:
            set_submission_status(connection, target_entry, campaign, subject, "withdrawn", stored[1].recorded_at)

    return receipt_for(core.append(campaign, drafts, after))
