"""The fast path: the app takes the screened file from ``request.state.ugc`` instead of parsing the body again.

Screening has already received, hashed, sniffed and (when the policy says so) cleaned every file, and
keeps it in a temporary file until the response is over. :meth:`ScreenedFile.save` puts the bytes
the app would have received at a path of the app's choosing: a hard link to the cleaned file when
it is on the same filesystem (no copy at all), else a kernel-side copy (``copy_file_range``) from
the cleaned file or from the file's range of the spooled body. :meth:`ScreenedFile.open` reads them.
Both block (call them in a worker thread, or use ``save_async``). The temporary files are still
removed after the response: a saved copy or link is the app's, and stays.
"""

from __future__ import annotations

import errno
import io
import os
from typing import IO

from .spool import RangeReader

__all__ = ["open_delivered", "save_delivered"]

_NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP})
"""Why a hard link may fail where a copy works: another filesystem, link limits, a filesystem without links."""
_COPY_STEP = 64 * 1024 * 1024


def open_delivered(canonical_path: str | None, source: RangeReader | None) -> IO[bytes]:
    """Return a new read-only binary file over the bytes the app receives (blocking reads): the cleaned
    file at ``canonical_path`` when there is one, else the upload's own bytes in ``source``."""
    if canonical_path is not None:
        return open(canonical_path, "rb")
    return io.BufferedReader(_clone(source))


def save_delivered(
    canonical_path: str | None,
    canonical_size: int | None,
    source: RangeReader | None,
    destination: str | os.PathLike[str],
    *,
    link: bool = True,
) -> str:
    """Put the bytes the app receives at ``destination`` (which must not exist); return its path.

    ``link=False`` always copies (when the app will change the file in place: a link shares it with
    the replayed body until the response is over).
    """
    target = os.fspath(destination)
    if canonical_path is not None:
        if link:
            try:
                os.link(canonical_path, target)
                return target
            except OSError as error:
                if error.errno not in _NO_LINK:
                    raise
        with open(canonical_path, "rb") as cleaned:
            _copy(cleaned.fileno(), 0, canonical_size if canonical_size is not None else os.fstat(cleaned.fileno()).st_size, target)
        return target
    reader = _clone(source)
    fd = reader.file_descriptor()
    if fd is None:  # a small upload kept in memory
        with open(target, "xb") as handle:
            handle.write(reader.pread(reader.length, 0))
        return target
    _copy(fd, reader.offset, reader.length, target)
    return target


def _clone(source: RangeReader | None) -> RangeReader:
    if source is None:
        raise ValueError("this screened file has no bytes left to hand over (the response is over)")
    return source.clone()


def _copy(fd: int, offset: int, length: int, target: str) -> None:
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        done = 0
        while done < length:
            step = min(_COPY_STEP, length - done)
            try:
                copied = os.copy_file_range(fd, out, step, offset + done)
            except OSError as error:  # not supported between these filesystems: copy through memory
                if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                copied = os.write(out, os.pread(fd, min(step, 4 * 1024 * 1024), offset + done))
            if copied <= 0:
                raise OSError(errno.EIO, "the spooled upload ended early")
            done += copied
    except BaseException:
        os.close(out)
        os.unlink(target)
        raise
    os.close(out)
