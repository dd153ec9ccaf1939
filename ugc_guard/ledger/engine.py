"""Engines for the ledger: SQLite in WAL mode with a busy timeout, PostgreSQL with a connect
timeout, and database errors turned into one-line :class:`LedgerError` subclasses."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from .errors import LedgerError, LedgerUnavailable

__all__ = ["WRITE", "create_ledger_engine", "display_url", "translate_errors"]

WRITE = {"ledger_write": True}
"""Execution option for a connection that appends: SQLite then starts with BEGIN IMMEDIATE."""


def display_url(url: str | URL) -> str:
    """Return the URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return str(url)


def create_ledger_engine(url: str, *, connect_timeout: float = 5.0, synchronous: str = "FULL") -> Engine:
    """Return an engine for a ledger URL (``sqlite:///file`` or ``postgresql+psycopg://…``).

    SQLite files get WAL mode, ``busy_timeout`` = ``connect_timeout`` and ``secure_delete`` (so an
    erased key is overwritten on disk); appends take the write lock with ``BEGIN IMMEDIATE``.
    PostgreSQL gets libpq's ``connect_timeout`` (at least 2 s, libpq's minimum) and a ``lock_timeout``
    of three times it. Raises
    :class:`LedgerError` for a URL that names no supported database.
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise LedgerError(f"{url!r} is not a database URL; use sqlite:///path.sqlite3 or postgresql+psycopg://host/db") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise LedgerError(f"{url}: the ledger needs a SQLite file (an in-memory database is lost and cannot be shared)")
        engine = create_engine(parsed, connect_args={"timeout": connect_timeout}, pool_pre_ping=False)
        _sqlite_events(engine, connect_timeout, synchronous)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            engine = create_engine(
                parsed,
                connect_args={
                    "connect_timeout": max(2, math.ceil(connect_timeout)),
                    # a writer stuck while holding a chain lock must not stall every other writer for ever
                    "options": f"-c lock_timeout={int(connect_timeout * 3000)}",
                },
                pool_pre_ping=False,  # replaced by _ping_when_idle: no extra round trip for a busy connection
                pool_timeout=connect_timeout,
            )
        except (ImportError, exc.NoSuchModuleError):
            raise LedgerError("PostgreSQL ledgers need psycopg 3: pip install 'ugc-guard[postgres]'") from None
        _ping_when_idle(engine)
        return engine
    raise LedgerError(f"{display_url(url)}: unsupported ledger database {backend!r}; use sqlite:/// or postgresql+psycopg://")


PING_AFTER = 1.0
"""Seconds a pooled PostgreSQL connection may sit idle before checkout tests it with a round trip."""


def _ping_when_idle(engine: Engine) -> None:
    """Pre-ping, but only connections idle for more than ``PING_AFTER`` seconds.

    A connection handed back a moment ago (a writer appending in a loop) was alive then; testing it
    again would add a round trip to every append. One that sat idle (a server restart, a network
    drop, an idle timeout) is tested as ``pool_pre_ping`` would, and replaced if dead.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["ugc_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("ugc_idle_since", None)
        if since is None or time.monotonic() - since <= PING_AFTER:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:  # any failure means the connection is unusable
            alive = False
        if not alive:
            raise exc.DisconnectionError("the pooled connection did not answer; reconnecting")


def _sqlite_events(engine: Engine, busy_timeout: float, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event below issues BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("ledger_write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Turn driver errors that mean "cannot reach or open the database" into :class:`LedgerUnavailable`."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise LedgerUnavailable(f"the ledger database {display_url(url)} is unavailable: {first_line(error)}") from error
    except exc.DBAPIError as error:
        if error.connection_invalidated:
            raise LedgerUnavailable(f"the ledger database {display_url(url)} dropped the connection: {first_line(error)}") from error
        if type(error) is exc.DatabaseError:  # SQLite's "file is not a database": some other file at the ledger's path
            raise LedgerUnavailable(f"the ledger database {display_url(url)} cannot be opened: {first_line(error)}") from error
        raise


def first_line(error: BaseException) -> str:
    """Return the first line of a database error's driver message."""
    origin = getattr(error, "orig", None) or error
    text = str(origin).strip().splitlines()
    return text[0] if text else type(origin).__name__
