"""Where a ledger URL points on disk, so readers can refuse a SQLite file that does not exist
instead of letting the driver create an empty one (a relative ``sqlite:///`` URL run from another
folder otherwise silently opens a fresh, empty ledger)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import exc
from sqlalchemy.engine import make_url

from .engine import display_url
from .errors import LedgerUnavailable

__all__ = ["require_existing", "sqlite_file"]


def sqlite_file(url: str) -> Path | None:
    """Return the absolute path of the file a ``sqlite:///`` URL names (resolved against the current
    folder when relative), or None for another database or a URL that is not one."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    database = parsed.database
    if database.startswith("file:"):  # a URI filename (sqlite:///file:name?mode=ro&uri=true)
        database = database[5:].split("?", 1)[0]
    return Path(database).expanduser().absolute()


def require_existing(url: str) -> None:
    """Raise :class:`LedgerUnavailable` (one line naming the absolute path) when ``url`` is a SQLite
    ledger whose file does not exist. Connects to nothing and creates nothing."""
    path = sqlite_file(url)
    if path is None or path.is_file():
        return
    relative = "" if Path(make_url(url).database or "").is_absolute() else f" (relative to {Path.cwd()})"
    raise LedgerUnavailable(
        f"the ledger file {path} does not exist{relative}; check {display_url(url)}, "
        "or create a new ledger with: ugc-guard db upgrade"
    )
