"""Temporary files of spooled uploads: named after the worker's pid, removed with the request, and swept
when a restarted worker finds those of a killed one. Storage failures (a full disk) are told apart from
bad uploads."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import tempfile
from collections.abc import Callable

__all__ = ["STORAGE_ERRNOS", "TEMP_PREFIX", "TempFiles", "storage_error", "sweep_orphans"]

logger = logging.getLogger("ugc_guard")

STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})
"""Errors that mean "the temporary folder cannot take this", not "the upload is bad"."""


def storage_error(error: BaseException) -> OSError | None:
    """Return the storage failure (full disk, quota, read-only…) inside ``error`` or its group, if any."""
    if isinstance(error, OSError) and error.errno in STORAGE_ERRNOS:
        return error
    for inner in getattr(error, "exceptions", ()):
        found = storage_error(inner)
        if found is not None:
            return found
    cause = error.__cause__ or error.__context__
    return storage_error(cause) if cause is not None and cause is not error else None


TEMP_PREFIX = "ugc-guard-"
_ORPHAN_RE = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)-")


class TempFiles:
    """Every temporary file one request made; :meth:`remove` deletes them all (idempotent)."""

    def __init__(self, folder: str | None) -> None:
        self.folder = folder
        self._paths: list[str] = []
        self._closers: list[Callable[[], None]] = []

    def on_remove(self, closer: Callable[[], None]) -> None:
        """Call ``closer`` (e.g. closing a descriptor) before the files are deleted."""
        self._closers.append(closer)

    def create(self, suffix: str) -> tuple[int, str]:
        """Create a new private temporary file; return its descriptor and path (blocking: call in a thread).

        The name carries this process's id, so a worker that was killed before it could clean up
        leaves files that :func:`sweep_orphans` recognises as nobody's.
        """
        fd, path = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=suffix, dir=self.folder)
        self._paths.append(path)
        return fd, path

    def remove(self) -> None:
        closers, self._closers = self._closers, []
        for closer in closers:
            closer()
        paths, self._paths = self._paths, []
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def sweep_orphans(folder: str | None) -> int:
    """Delete temporary files left by ugc_guard processes that no longer run; return how many.

    Called when a screening stage starts (a restarted worker clears what its killed predecessor
    left). A file whose process still runs is never touched.
    """
    directory = folder or tempfile.gettempdir()
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        match = _ORPHAN_RE.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.unlink(os.path.join(directory, name))
            removed += 1
    if removed:
        logger.warning("ugc_guard: removed %d temporary upload file(s) left by stopped workers in %s", removed, directory)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
