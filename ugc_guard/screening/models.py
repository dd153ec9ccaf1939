"""What screening hands on: the screened upload, and the submission the ledger made of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .grants import Grants
from .spool import RangeReader

if TYPE_CHECKING:
    from ..context import RequestContext

__all__ = ["NotStoredMarker", "Recorder", "ScreenedFile", "ScreenedUpload", "Submission"]


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
    """SHA-256 of the re-encoded image without metadata, when the policy strips metadata."""
    canonical_size: int | None = None
    canonical_path: str | None = None
    """Temporary file with the re-encoded image; removed after the response."""
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    source: RangeReader | None = field(default=None, repr=False, compare=False)
    """Read-only view of the bytes as uploaded (blocking reads: use a worker thread); valid until the response ends."""


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
                {"name": f.name, "type": f.type, "size": f.size, "sha256": f.sha256, "canonical_sha256": f.canonical_sha256}
                for f in self.files
            ],
            "receipt": receipt,
        }


Recorder = Callable[["RequestContext", ScreenedUpload], Awaitable[Submission]]
"""Records a screened upload before the app sees it; raises ``Problem`` to refuse, anything else = 503."""

NotStoredMarker = Callable[["RequestContext", Submission, "int | None"], Awaitable[None]]
"""Called when the app answered ≥ 400 or raised (status None): the submission was not stored."""
