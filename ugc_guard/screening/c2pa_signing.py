"""Content credentials: a C2PA manifest signed into accepted images with the campaign's key (c2pa-python, offline).

The manifest says what ugc_guard did (an edit of the upload, which becomes its parent ingredient:
``c2pa.opened`` then ``c2pa.edited.metadata``), whether the image may be used for training and mining
(``c2pa.training-mining``, from ``uploads.rights.data_mining``) and under which licence it came, with
the submission's receipt (``org.ugc-guard.rights``). No thumbnail is embedded (it would copy the
picture into the manifest). It is signed after the XMP packet is written, so it covers the packet too.
c2pa-python loads only when a policy configures signing (it costs ~0.4 s at import).
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..policy.media import C2paSigning
from .xmp import ImageSigner, RightsFacts

__all__ = ["USES", "image_signer", "manifest", "training_mining"]

USES = ("c2pa.ai_generative_training", "c2pa.ai_inference", "c2pa.ai_training", "c2pa.data_mining")
_NOT_ALLOWED_FOR = {
    "DMI-PROHIBITED": USES,
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": USES,
    "DMI-PROHIBITED-AIMLTRAINING": ("c2pa.ai_generative_training", "c2pa.ai_training"),
    "DMI-PROHIBITED-GENAIMLTRAINING": ("c2pa.ai_generative_training",),
}
MEDIA_TYPES = {"image/jpeg", "image/png", "image/webp"}


def training_mining(data_mining: str, constraint: str | None) -> dict[str, Any] | None:
    """Return the ``c2pa.training-mining`` entries that match a PLUS data-mining value (None for ``DMI-UNSPECIFIED``)."""
    code = data_mining.rsplit("/", 1)[-1]
    if code == "DMI-UNSPECIFIED":
        return None
    if code == "DMI-ALLOWED":
        return {"entries": {use: {"use": "allowed"} for use in USES}}
    if code in _NOT_ALLOWED_FOR:
        denied = _NOT_ALLOWED_FOR[code]
        return {"entries": {use: {"use": "notAllowed" if use in denied else "allowed"} for use in USES}}
    # DMI-PROHIBITED-SEE…: prohibited unless what the constraint or rights expression says
    info = constraint or "see the embedded or linked rights statement"
    return {"entries": {use: {"use": "constrained", "constraint_info": info} for use in USES}}


def manifest(facts: RightsFacts) -> dict[str, Any]:
    """Return the manifest definition for one delivered image."""
    assertions: list[dict[str, Any]] = []
    mining = training_mining(facts.data_mining, facts.other_constraints or facts.web_statement)
    if mining is not None:
        assertions.append({"label": "c2pa.training-mining", "data": mining})
    rights = {
        "licence_id": facts.licence_id, "licence_version": facts.licence_version, "licence_text_sha256": facts.licence_text_sha256,
        "licensor": facts.licensor, "usage_terms": facts.usage_terms, "web_statement": facts.web_statement,
        "model_release": facts.model_release, "data_mining": facts.data_mining, "campaign": facts.campaign,
        "submission_id": facts.submission_id, "receipt_entry": facts.receipt_entry, "receipt_hash": facts.receipt_hash,
        "received_sha256": facts.received_sha256,
    }  # fmt: skip
    assertions.append({"label": "org.ugc-guard.rights", "data": {key: value for key, value in rights.items() if value is not None}})
    return {
        "claim_generator_info": [{"name": "ugc_guard", "version": "0.1.0"}],
        "title": f"submission {facts.submission_id}",
        "assertions": assertions,
    }


@lru_cache(maxsize=16)
def image_signer(settings: C2paSigning) -> ImageSigner:
    """Return a function signing a manifest into JPEG, PNG and WebP bytes (other types pass unchanged).

    Raises RuntimeError when c2pa-python is missing, and c2pa's error when the certificate chain or
    key is not usable (checked here, once, by creating a signer).
    """
    try:
        import c2pa
    except ImportError:  # pragma: no cover - the policy refuses c2pa settings without the library
        raise RuntimeError("uploads.rights.c2pa needs c2pa-python: pip install 'ugc-guard[c2pa]'") from None
    certificate, key = Path(settings.certificate).read_bytes(), Path(settings.private_key).read_bytes()
    timestamp = str(settings.timestamp_url) if settings.timestamp_url else None

    def new_signer() -> Any:
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(settings.algorithm, certificate, key, timestamp))

    new_signer().close()
    context_settings = {"builder": {"thumbnail": {"enabled": False}}}

    def sign(data: bytes, media_type: str, facts: RightsFacts) -> bytes:
        if media_type not in MEDIA_TYPES:
            return data
        signed = io.BytesIO()
        with (
            new_signer() as signer,
            c2pa.Builder(json.dumps(manifest(facts)), context=c2pa.Context(c2pa.Settings.from_dict(context_settings))) as builder,
        ):
            builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
            builder.add_action({"action": "c2pa.edited.metadata", "description": "metadata removed; rights metadata added"})
            builder.sign(signer, media_type, io.BytesIO(data), signed)
        return signed.getvalue()

    return sign
