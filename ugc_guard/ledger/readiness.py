"""Make a ledger ready for an app: a SQLite file creates or migrates its own tables, a PostgreSQL
database must already be at the newest schema (``ugc-guard db upgrade``, run once per deployment).

Synchronous (database calls): the middleware runs :func:`prepare` in a worker thread.
"""

from __future__ import annotations

import threading

from alembic.util import CommandError
from sqlalchemy import exc
from sqlalchemy.engine import make_url

from .engine import display_url
from .errors import SchemaOutdated
from .ledger import Ledger

__all__ = ["migrates_itself", "prepare"]

_MIGRATING = threading.Lock()
"""One migration at a time in this process (several sites may share one SQLite file); other
processes on the same file wait on SQLite's write lock (the upgrade begins with BEGIN IMMEDIATE)."""


def migrates_itself(url: str) -> bool:
    """Return whether the app creates and migrates this ledger's tables itself (a SQLite file does)."""
    try:
        return make_url(url).get_backend_name() == "sqlite"
    except exc.ArgumentError:
        return False


def prepare(ledger: Ledger) -> str | None:
    """Make ``ledger`` ready to record; return the schema revision it is at.

    SQLite: creates the file's tables or migrates them to the newest schema. PostgreSQL: checks the
    revision only and raises :class:`SchemaOutdated` naming ``ugc-guard db upgrade --ledger URL``
    (several app instances must not migrate a shared database behind an operator's back). Raises
    :class:`LedgerUnavailable` when the database cannot be reached.
    """
    head = Ledger.head_revision()
    current = ledger.current_revision()
    if current == head:
        return current
    where = display_url(ledger.url)
    if migrates_itself(ledger.url):
        with _MIGRATING:
            current = ledger.current_revision()  # another thread may have migrated it meanwhile
            if current == head:
                return current
            try:
                return ledger.upgrade()
            except CommandError as error:  # a revision this version does not know: the file is from a newer ugc_guard
                raise SchemaOutdated(f"{where} has ledger schema {current}, which this ugc_guard does not know ({error})") from None
    command = f"ugc-guard db upgrade --ledger '{where}'"
    if current is None:
        raise SchemaOutdated(f"{where} has no ledger tables; run {command} once before starting the app")
    raise SchemaOutdated(f"{where} has ledger schema {current}, this ugc_guard needs {head}; run {command} before starting the app")
