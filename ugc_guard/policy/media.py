"""Policy for audio and video (limits a route may override) and for the rights written into accepted files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, ValidationInfo, field_validator, model_validator

from .base import Section
from .types import Duration

VIDEO_CODECS = ["h264", "hevc", "vp8", "vp9", "av1"]
AUDIO_CODECS = ["aac", "opus", "mp3", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_f32le", "pcm_u8"]

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
DataMining = Literal[
    "http://ns.useplus.org/ldf/vocab/DMI-UNSPECIFIED",
    "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-SEECONSTRAINT",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR",
    "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
]
"""The PLUS data-mining vocabulary (IPTC Photo Metadata 2023.1, Video Metadata Hub 1.5)."""


class MediaLimits(Section):
    """What an audio or video upload may be. Every figure is measured from the decoded streams and
    packets, never taken from a header that could lie."""

    max_duration: Duration = "PT10M"
    """Longest clip, measured from the packets' timestamps (413 ``upload-too-large`` beyond it)."""
    max_width: int = Field(4096, gt=0)
    max_height: int = Field(4096, gt=0)
    max_pixels: int = Field(4096 * 2160, gt=0)
    """Width × height of one video frame: 4K either way up (3840×2160, 2160×3840, DCI 4096×2160)."""
    max_frame_rate: int = Field(60, gt=0, le=1000)
    """Frames per second, measured from the packets. Phones' slow-motion clips (120–240 fps) need more."""
    max_streams: int = Field(8, ge=1, le=64)
    """Streams of every kind in the container (video, audio, timed metadata, subtitles, cover art)."""
    video_codecs: list[str] = VIDEO_CODECS
    """FFmpeg codec names accepted for video streams."""
    audio_codecs: list[str] = AUDIO_CODECS
    """FFmpeg codec names accepted for audio streams (``vorbis``, ``flac``, ``alac`` are off by default)."""
    probe_budget: Duration = "PT15S"
    """Time one file may take to be probed, sample-decoded and remuxed; a file that needs longer is refused."""
    strip_metadata: bool = True
    """Remux without metadata, streams copied bit for bit: location, device, owner, ID3/iTunes tags,
    chapters, timed-metadata, subtitle and cover-art tracks are dropped (see docs/screening.md)."""

    @field_validator("video_codecs", "audio_codecs")
    @classmethod
    def _codecs(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name or not all(char.isascii() and (char.isalnum() or char == "_") for char in name) or name != name.lower():
                raise ValueError(f"{name!r} is not an FFmpeg codec name; write it like h264, hevc, aac or pcm_s16le")
        return names


def _key_file(value: object, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected the path of a PEM file, relative to the policy file")
    path = (Path((info.context or {}).get("base_dir", ".")) / value).resolve()
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path} cannot be read ({error.strerror or error}); give the path of a PEM file, relative to the policy file") from None
    if b"-----BEGIN " not in data:
        raise ValueError(f"{path} is not a PEM file")
    return str(path)


class C2paSigning(Section):
    """Content credentials (C2PA) signed into accepted images; needs the ``c2pa`` extra (``pip install 'ugc-guard[c2pa]'``)."""

    certificate: str
    """PEM file with the signing certificate chain, leaf first (relative to the policy file)."""
    private_key: str
    """PEM file with the leaf certificate's private key (relative to the policy file); keep it out of the repository."""
    algorithm: Literal["es256", "es384", "es512", "ps256", "ed25519"] = "es256"
    timestamp_url: AnyHttpUrl | None = None
    """RFC 3161 time-stamping service; without one the manifest is signed without a trusted time (works offline)."""

    _files = field_validator("certificate", "private_key", mode="before")(_key_file)

    @model_validator(mode="after")
    def _library(self) -> C2paSigning:
        if importlib.util.find_spec("c2pa") is None:
            raise ValueError("uploads.rights.c2pa needs c2pa-python: pip install 'ugc-guard[c2pa]'")
        return self


class EmbeddedRights(Section):
    """Rights metadata written into every accepted file the app receives re-made (``replay: canonical``)."""

    embed: bool = True
    """Write an XMP packet (licence, licensor, usage terms, model release, data mining, receipt) into
    JPEG, PNG and WebP images and MP4/MOV files."""
    data_mining: DataMining = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"
    """``plus:DataMining``: whether text and data mining (AI training included) is allowed."""
    other_constraints: str | None = Field(None, max_length=2000)
    """``plus:OtherConstraints``; required with ``DMI-PROHIBITED-SEECONSTRAINT``."""
    usage_terms: str | None = Field(None, max_length=2000)
    """``xmpRights:UsageTerms``; default a sentence naming the licence, its version and the controller."""
    web_statement: AnyHttpUrl | None = None
    """``xmpRights:WebStatement``; default the terms page (``campaign.origin`` + ``prefix`` + ``/terms``)."""
    c2pa: C2paSigning | None = None
    """Also sign a C2PA manifest into accepted JPEG, PNG and WebP images: training and mining per
    ``data_mining``, the licence and the receipt, with the campaign's key."""

    @model_validator(mode="after")
    def _constraint(self) -> EmbeddedRights:
        if self.data_mining.endswith("SEECONSTRAINT") and not self.other_constraints:
            raise ValueError("data_mining DMI-PROHIBITED-SEECONSTRAINT needs other_constraints, the constraint it points to")
        return self
