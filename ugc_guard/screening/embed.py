"""Rights travel with the file: after the submission is recorded, its XMP is written into what the app receives.

The receipt exists only once the ledger has recorded the submission, so this runs between record and
replay, on the cleaned files (``canonical_path``) only: a file the app receives as uploaded is never
changed. JPEG gets an ``APP1`` XMP segment, PNG an ``iTXt`` ``XML:com.adobe.xmp`` chunk, WebP an
``XMP `` chunk (with the ``VP8X`` flag), MP4/MOV/M4A a top-level ``uuid`` box
BE7ACFCB-97A9-42E8-9C71-999491E3AFAC appended at the end (no offset in the file moves). GIF, WebM, MP3,
WAV and Ogg get none. Removing the packet again gives back exactly the bytes of ``canonical_sha256``,
which is what the ledger recorded; ``delivered_sha256`` is the hash of what the app received.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import anyio

from ..policy import Policy
from ..problems import Problem
from .grants import Grants
from .jpeg_segments import insert_jpeg_xmp
from .models import ScreenedFile, ScreenedUpload, Submission
from .png_chunks import insert_png_xmp, insert_webp_xmp
from .tempfiles import TempFiles
from .xmp import MODEL_RELEASE, ImageSigner, RightsFacts, xmp_packet

__all__ = ["XMP_UUID", "embed_rights", "model_release", "rights_facts"]

logger = logging.getLogger("ugc_guard.screening")

XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
ISO_TYPES = {"video/mp4", "video/quicktime", "audio/mp4"}
IMAGE_WRITERS: dict[str, Callable[[bytes, bytes, ScreenedFile], bytes]] = {
    "image/jpeg": lambda data, packet, item: insert_jpeg_xmp(data, packet),
    "image/png": lambda data, packet, item: insert_png_xmp(data, packet),
    "image/webp": lambda data, packet, item: insert_webp_xmp(data, packet, item.width or 1, item.height or 1),
}


async def embed_rights(
    policy: Policy, screened: ScreenedUpload, submission: Submission, temp: TempFiles, signer: ImageSigner | None = None
) -> ScreenedUpload:
    """Write the rights into every cleaned file; return the upload with the delivered files.

    ``submission.files`` is updated too (``request.state.ugc``). Does nothing when the app receives
    the upload as sent (``replay: original``) or ``uploads.rights.embed`` is off. ``signer`` defaults to
    the policy's C2PA signing (``uploads.rights.c2pa``), if any. Raises 503 ``storage-unavailable``
    when a file cannot be written or signed (the submission stays unconfirmed).
    """
    if screened.replay != "canonical" or not policy.uploads.rights.embed:
        return screened
    try:
        files = await anyio.to_thread.run_sync(_embed_all, policy, screened, submission, temp, signer)
    except Exception as error:
        logger.exception("ugc_guard: the rights could not be written into an accepted file")
        raise Problem("storage-unavailable", f"the rights could not be written into the file ({type(error).__name__}); try again later") from None
    submission.files = files
    return replace(screened, files=files)


def _embed_all(
    policy: Policy, screened: ScreenedUpload, submission: Submission, temp: TempFiles, signer: ImageSigner | None
) -> tuple[ScreenedFile, ...]:
    if signer is None and policy.uploads.rights.c2pa is not None:
        from .c2pa_signing import image_signer  # c2pa-python loads only for a policy that signs

        signer = image_signer(policy.uploads.rights.c2pa)
    delivered = []
    for index, item in enumerate(screened.files):
        if item.canonical_path is None:
            delivered.append(item)
            continue
        facts = rights_facts(policy, screened.grants, submission, index, item)
        delivered.append(_embed_one(item, facts, temp, signer))
    return tuple(delivered)


def _embed_one(item: ScreenedFile, facts: RightsFacts, temp: TempFiles, signer: ImageSigner | None) -> ScreenedFile:
    path = item.canonical_path or ""
    packet = xmp_packet(facts)
    if item.type in ISO_TYPES:
        with open(path, "ab") as handle:  # our own cleaned file: nothing else reads it before the replay
            handle.write(struct.pack(">I", 24 + len(packet)) + b"uuid" + XMP_UUID + packet)
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
            size = handle.tell()
        return replace(item, canonical_size=size, delivered_sha256=digest, rights=("xmp",))
    writer = IMAGE_WRITERS.get(item.type)
    if writer is None:
        return replace(item, delivered_sha256=item.canonical_sha256)
    with open(path, "rb") as handle:
        data = writer(handle.read(), packet, item)
    rights: tuple[str, ...] = ("xmp",)
    if signer is not None:
        data, rights = signer(data, item.type, facts), ("xmp", "c2pa")
    fd, target = temp.create(".delivered")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return replace(item, canonical_path=target, canonical_size=len(data), delivered_sha256=hashlib.sha256(data).hexdigest(), rights=rights)


def model_release(grants: Grants, withdrawable: bool) -> str:
    """Return the PLUS model-release status the portrait grant amounts to.

    ``MR-UMR`` (unlimited) only when the uploader consented for themselves, declared that nobody else
    is recognisable and the consent cannot be withdrawn; ``MR-LMR`` (limited) when consent was given
    but can be withdrawn (GDPR Art. 7(3)) or covers others only by the uploader's declaration;
    ``MR-NON`` when the uploader gave no portrait consent.
    """
    if not grants.portrait_self:
        return MODEL_RELEASE["none"]
    if grants.portrait_others == "none" and not withdrawable:
        return MODEL_RELEASE["unlimited"]
    return MODEL_RELEASE["limited"]


def rights_facts(policy: Policy, grants: Grants, submission: Submission, index: int, item: ScreenedFile) -> RightsFacts:
    """Return what the XMP of the ``index``-th file of ``submission`` states (policy, grants, receipt)."""
    rights, licence, controller = policy.uploads.rights, policy.licence, policy.controller
    ids = submission.extra.get("submission_ids") or [submission.id]
    receipts = submission.extra.get("receipts") or [submission.receipt]
    receipt = receipts[index] if index < len(receipts) else None
    usage = rights.usage_terms or (
        f"Licensed to {controller.name} under {licence.id} version {licence.version} for {policy.campaign.name}. "
        "Any other use needs the licensor's permission."
        + (" Text and data mining, AI training included, is reserved." if "PROHIBITED" in rights.data_mining else "")
    )
    return RightsFacts(
        licence_id=licence.id,
        licence_version=licence.version,
        licensor=controller.name,
        usage_terms=usage,
        model_release=model_release(grants, policy.portrait.withdrawable),
        data_mining=rights.data_mining,
        received_sha256=item.sha256,
        submission_id=str(ids[index] if index < len(ids) else submission.id),
        licensor_email=str(controller.contact),
        licensor_url=str(controller.privacy_url) if controller.privacy_url else None,
        web_statement=str(rights.web_statement) if rights.web_statement else f"{policy.campaign.base_url}{policy.prefix}/terms",
        other_constraints=rights.other_constraints,
        licence_text_sha256=(submission.extra.get("licence") or {}).get("text_sha256"),
        receipt_entry=_field(receipt, "entry_id"),
        receipt_hash=_field(receipt, "hash"),
        campaign=policy.campaign.id,
    )


def _field(receipt: Any, name: str) -> str | None:
    value = receipt.get(name) if isinstance(receipt, dict) else getattr(receipt, name, None)
    return None if value is None else str(value)
