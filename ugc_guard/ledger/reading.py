"""The reading half of :class:`~ugc_guard.ledger.Ledger`: pages of entries, one entry, grants, files by
hash, counts, and verification of the chains and of receipts. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from . import queries
from .core import LedgerCore
from .queries import Filters, Page
from .receipts import Receipt, ReceiptCheck
from .verify import Verification, check_receipt, verify_chains
from .views import EntryView, Opener

__all__ = ["LedgerReading"]


class LedgerReading:
    """Queries and verification over ``self._core`` (set by :class:`~ugc_guard.ledger.Ledger`)."""

    _core: LedgerCore

    # -- queries ------------------------------------------------------------------------------
    def _page(self, filters: Filters, limit: int) -> Page:
        with self._core.connect() as connection:
            return queries.list_entries(connection, Opener(connection, self._core.sealer), filters, limit)

    def acceptances(self, *, campaign: str | None = None, subject: str | None = None, terms_version: str | None = None,
                    since: dt.datetime | None = None, until: dt.datetime | None = None, after: int | None = None,
                    limit: int = 100) -> Page:
        """Return a page of terms acceptances, oldest first; pass ``after=page.next`` for the next page."""
        return self._page(Filters(campaign, subject, terms_version, None, None, since, until, after,
                                   ("terms_acceptance",)), limit)

    def submissions(self, *, campaign: str | None = None, subject: str | None = None, status: str | None = None,
                    content_sha256: str | None = None, since: dt.datetime | None = None,
                    until: dt.datetime | None = None, after: int | None = None, limit: int = 100) -> Page:
        """Return a page of submissions (``status`` filters on the current status), oldest first."""
        return self._page(Filters(campaign, subject, None, status, content_sha256, since, until, after,
                                  ("submission",)), limit)

    def history(self, subject: str, *, campaign: str | None = None, since: dt.datetime | None = None,
                until: dt.datetime | None = None, after: int | None = None, limit: int = 1000) -> Page:
        """Return a page of the subject's whole history (every kind), oldest first."""
        return self._page(Filters(campaign, subject, None, None, None, since, until, after), limit)

    def entries(self, *, campaign: str | None = None, subject: str | None = None, kinds: Sequence[str] = (),
                since: dt.datetime | None = None, until: dt.datetime | None = None, after: int | None = None,
                limit: int = 100) -> Page:
        """Return a page of entries of any ``kinds``, oldest first."""
        return self._page(Filters(campaign, subject, None, None, None, since, until, after, tuple(kinds)), limit)

    def iter_entries(self, *, campaign: str | None = None, kinds: Sequence[str] = (), since: dt.datetime | None = None,
                     until: dt.datetime | None = None) -> Iterator[EntryView]:
        """Yield every matching entry oldest first, streamed in constant memory (for exports)."""
        with self._core.connect() as connection:
            opener = Opener(connection, self._core.sealer)
            yield from queries.iter_entries(connection, opener, Filters(campaign, None, None, None, None, since, until,
                                                                        None, tuple(kinds)))

    def entry(self, entry_id: int) -> EntryView | None:
        """Return one entry by id, or None."""
        page = self._page(Filters(after=entry_id - 1), 1)
        return page.items[0] if page.items and page.items[0].id == entry_id else None

    def grants(self, submission_id: int) -> list[EntryView]:
        """Return the submission and every entry about it (licence and portrait grants, statuses…)."""
        with self._core.connect() as connection:
            return queries.grants(connection, Opener(connection, self._core.sealer), submission_id)

    def by_content(self, content_sha256: str) -> list[dict[str, Any]]:
        """Return who granted what for a file, by its (original or re-encoded) SHA-256."""
        with self._core.connect() as connection:
            return queries.by_content(connection, Opener(connection, self._core.sealer), content_sha256)

    def stats(self, campaign: str | None = None) -> dict[str, Any]:
        """Return entry counts per campaign and kind, submission statuses and erased subjects."""
        with self._core.connect() as connection:
            return queries.stats(connection, campaign)

    # -- verification -------------------------------------------------------------------------
    def verify(self, campaign: str | None = None, *, progress: Callable[[int], None] | None = None) -> Verification:
        """Recompute every hash chain (streaming); return what was checked and the first bad entry per campaign."""
        with self._core.connect() as connection:
            return verify_chains(connection, campaign, progress)

    def verify_receipt(self, receipt: Receipt | dict[str, Any] | str) -> ReceiptCheck:
        """Check a receipt (object, dict or JSON text) against the ledger. Raises :class:`ReceiptInvalid`
        when it is not a receipt at all."""
        if isinstance(receipt, str):
            receipt = Receipt.from_json(receipt)
        elif isinstance(receipt, dict):
            receipt = Receipt.from_dict(receipt)
        with self._core.connect() as connection:
            return check_receipt(connection, receipt)
