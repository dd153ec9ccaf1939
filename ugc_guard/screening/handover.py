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
from typing import IO, TYPE_CHECKING

from .spool import RangeReader

if TYPE_CHECKING:
    from .models import ScreenedFile

__all__ = ["open_delivered", "save_delivered"]

_NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP})
"""Why a hard link may fail where a copy works: another filesystem, link limits, a filesystem without links."""
_COPY_STEP = 64 * 1024 * 1024


def open_delivered(item: ScreenedFile) -> IO[bytes]:
    """Return a new read-only binary file over the bytes the app receives for ``item`` (blocking reads)."""
    if item.canonical_path is not None:
        return open(item.canonical_path, "rb")
    return io.BufferedReader(_source(item))


def save_delivered(item: ScreenedFile, destination: str | os.PathLike[str], *, link: bool = True) -> str:
    """Put the bytes the app receives for ``item`` at ``destination`` (which must not exist); return its path.

    ``link=False`` always copies (when the app will change the file in place: a link shares it with
    the replayed body until the response is over).
    """
    target = os.fspath(destination)
    if item.canonical_path is not None:
        if link:
            try:
                os.link(item.canonical_path, target)
                return target
            except OSError as error:
                if error.errno not in _NO_LINK:
                    raise
        with open(item.canonical_path, "rb") as source:
            _copy(source.fileno(), 0, item.canonical_size if item.canonical_size is not None else os.fstat(source.fileno()).st_size, target)
        return target
    reader = _source(item)
    fd = reader.file_descriptor()
    if fd is None:  # a small upload kept in memory
        with open(target, "xb") as handle:
            handle.write(reader.pread(reader.length, 0))
        return target
    _copy(fd, reader.offset, reader.length, target)
    return target


def _source(item: ScreenedFile) -> RangeReader:
    if item.source is None:
        raise ValueError("this screened file has no bytes left to hand over (the response is over)")
    return item.source.clone()


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

