"""What screening hands on: the screened upload, and the submission the ledger made of it."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Literal

import anyio

from .grants import Grants
from .handover import open_delivered, save_delivered
from .spool import RangeReader

if TYPE_CHECKING:
    from ..context import RequestContext

__all__ = ["CleanedFile", "NotStoredMarker", "Recorder", "ScreenedFile", "ScreenedUpload", "Submission"]


@dataclass(frozen=True, slots=True)
class CleanedFile:
    """A temporary file holding an upload without its metadata, and what was taken out."""

    path: str
    size: int
    sha256: str
    method: Literal["lossless", "remux", "re-encode"]
    """How: segments/chunks dropped, streams remuxed bit for bit, or the image decoded and encoded again."""
    stripped: tuple[str, ...] = ()
    """What was found and removed (``EXIF``, ``XMP``, ``COM``, ``PNG tEXt``, ``metadata: location``, ``stream 2 (data)``…)."""
    kept: tuple[str, ...] = ()
    """What was deliberately kept (``ICC profile``, ``EXIF orientation``, ``display matrix``…)."""


@dataclass(frozen=True, slots=True)
class ScreenedFile:
    """One file that passed screening."""

    field: str
    """Form field it came in ('' for a raw body)."""
    name: str
    """Sanitised file name: display text only, never a path ('' when none was sent)."""
    original_name_escaped: str
    """The name as sent, escaped (metadata for the record)."""
    declared_type: str
    """Content-Type the client declared for the file."""
    detected_type: str
    """libmagic's answer."""
    type: str
    """The canonical type it was accepted as."""
    size: int
    sha256: str
    """SHA-256 of the bytes as uploaded."""
    canonical_sha256: str | None = None
    """SHA-256 of the file without its metadata (before rights are written), when the policy strips metadata."""
    canonical_size: int | None = None
    """Size of the file the app receives instead of the upload (``canonical_path``)."""
    canonical_path: str | None = None
    """Temporary file the app receives instead of the upload: the cleaned file, with the rights metadata
    once it is written (then its hash is ``delivered_sha256``); removed after the response."""
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    duration: float | None = None
    """Seconds of audio or video, measured from the packets."""
    cleaning: Literal["lossless", "remux", "re-encode"] | None = None
    """How the metadata was removed (None: the file was not cleaned)."""
    stripped: tuple[str, ...] = ()
    """Metadata found and removed (see :class:`CleanedFile`)."""
    kept: tuple[str, ...] = ()
    """Metadata deliberately kept (orientation, colour profile, display matrix…)."""
    delivered_sha256: str | None = None
    """SHA-256 of the bytes the app receives when they differ from the upload (cleaned, rights written)."""
    rights: tuple[str, ...] = ()
    """Rights metadata written into the delivered file: ``xmp``, ``c2pa``."""
    source: RangeReader | None = dataclasses.field(default=None, repr=False, compare=False)  # ``field`` is a member here
    """Read-only view of the bytes as uploaded (blocking reads: use a worker thread); valid until the response ends."""

    # The fast path (README "Fast path"): what the app receives, without parsing the replayed body.

    @property
    def path(self) -> str | None:
        """The temporary file holding exactly the bytes the app receives, when screening wrote one (the
        cleaned file, rights written); None when they are the upload's own bytes (use :meth:`save`/:meth:`open`)."""
        return self.canonical_path

    @property
    def delivered_size(self) -> int:
        """Size of the bytes the app receives (the cleaned file's when there is one)."""
        return self.canonical_size if self.canonical_path is not None and self.canonical_size is not None else self.size

    @property
    def delivered_hash(self) -> str:
        """SHA-256 of the bytes the app receives: ``delivered_sha256``, else the cleaned or uploaded file's."""
        return self.delivered_sha256 or (self.canonical_sha256 if self.canonical_path is not None else None) or self.sha256

    def open(self) -> IO[bytes]:
        """A new read-only binary file over the bytes the app receives (blocking reads); valid until the response ends."""
        return open_delivered(self.canonical_path, self.source)

    def save(self, destination: str | os.PathLike[str], *, link: bool = True) -> str:
        """Put the bytes the app receives at ``destination`` (must not exist) and return its path (blocking).

        A hard link to the cleaned file when it is on the same filesystem, else a kernel-side copy;
        ``link=False`` always copies. The saved file is the app's: it stays after the response.
        """
        return save_delivered(self.canonical_path, self.canonical_size, self.source, destination, link=link)

    async def save_async(self, destination: str | os.PathLike[str], *, link: bool = True) -> str:
        """:meth:`save` in a worker thread."""
        return await anyio.to_thread.run_sync(functools.partial(self.save, destination, link=link))


@dataclass(frozen=True, slots=True)
class ScreenedUpload:
    """Everything screening found out about one upload request, ready to be recorded."""

    route: str
    """The policy's route path (``/upload``)."""
    body: Literal["multipart", "raw"]
    files: tuple[ScreenedFile, ...]
    grants: Grants
    fields: dict[str, str]
    """Other form fields (not files, not grant fields), decoded as UTF-8."""
    total_bytes: int
    """Bytes of the request body as received."""
    replay: Literal["original", "canonical"]
    """What the app is going to receive."""


@dataclass(slots=True)
class Submission:
    """The recorded submission; ``request.state.ugc`` in the app. The ledger fills it."""

    id: str
    sha256: str
    """SHA-256 of the (first) file as uploaded."""
    type: str
    size: int
    grants: Grants
    receipt: Any = None
    """The ledger's receipt (entry id, hash-chain position…); None until a ledger records it."""
    files: tuple[ScreenedFile, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready summary for the uploader: ids, hashes, grants and the receipt."""
        receipt = self.receipt.to_dict() if hasattr(self.receipt, "to_dict") else self.receipt
        return {
            "id": self.id,
            "submission_ids": self.extra.get("submission_ids", [self.id]),
            "sha256": self.sha256,
            "type": self.type,
            "size": self.size,
            "grants": {
                "licence": self.grants.licence,
                "portrait_self": self.grants.portrait_self,
                "portrait_others": self.grants.portrait_others,
            },
            "files": [
                {
                    "name": f.name,
                    "type": f.type,
                    "size": f.size,
                    "sha256": f.sha256,
                    "canonical_sha256": f.canonical_sha256,
                    "delivered_sha256": f.delivered_sha256,
                    "stripped": list(f.stripped),
                    "kept": list(f.kept),
                    "rights": list(f.rights),
                }
                for f in self.files
            ],
            "receipt": receipt,
        }


Recorder = Callable[["RequestContext", ScreenedUpload], Awaitable[Submission]]
"""Records a screened upload before the app sees it; raises ``Problem`` to refuse, anything else = 503."""

NotStoredMarker = Callable[["RequestContext", Submission, "int | None"], Awaitable[None]]
"""Called when the app answered ≥ 400 or raised (status None): the submission was not stored."""
