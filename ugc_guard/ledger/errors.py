"""The ledger's exceptions: one line each, naming what is wrong and what to do."""

from __future__ import annotations

__all__ = ["EntryNotFound", "LedgerError", "LedgerUnavailable", "ReceiptInvalid", "SchemaOutdated", "SubjectErased"]


class LedgerError(Exception):
    """Base class: something the ledger cannot do; ``str(error)`` is one line for a user."""


class LedgerUnavailable(LedgerError):
    """The database cannot be reached or opened (within ``connect_timeout``)."""


class SchemaOutdated(LedgerError):
    """The database has no ledger tables, or an older schema: run ``ugc-guard db upgrade``."""


class EntryNotFound(LedgerError):
    """An entry (or guardian request) that an operation refers to does not exist in this campaign."""


class SubjectErased(LedgerError):
    """The subject's personal data was erased; nothing personal can be recorded for them again."""


class ReceiptInvalid(LedgerError):
    """A receipt that is not well-formed JSON of the receipt shape."""
