"""Upload screening: streamed, bounded, sniffed and recorded before the app sees a byte.

The lead wires :class:`ScreeningStage` last in the pipeline with the ledger's ``record`` and
``mark_not_stored``; ``metrics`` counts refusals per problem code.
"""

from __future__ import annotations

from .grants import FIELDS as GRANT_FIELDS
from .grants import HEADERS as GRANT_HEADERS
from .grants import Grants
from .metrics import ScreeningMetrics, metrics
from .models import NotStoredMarker, Recorder, ScreenedFile, ScreenedUpload, Submission
from .stage import ScreeningStage, unrecorded

__all__ = [
    "GRANT_FIELDS",
    "GRANT_HEADERS",
    "Grants",
    "NotStoredMarker",
    "Recorder",
    "ScreenedFile",
    "ScreenedUpload",
    "ScreeningMetrics",
    "ScreeningStage",
    "Submission",
    "metrics",
    "unrecorded",
]
