"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, and tlog checkpoints
(c2sp.org/tlog-checkpoint) carried in them.

A signed note is its text (ending in a newline), a blank line, and one line per signature:
``— <key name> <base64(4-byte key id || Ed25519 signature over the text)>``. For Ed25519 the key id
is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]``. A checkpoint's text is three lines:
origin, tree size in decimal, root hash in standard base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = ["Checkpoint", "NoteError", "NoteKey", "checkpoint_text", "key_id", "parse_checkpoint", "sign_note", "verify_note"]

ED25519 = 0x01
DASH = "\u2014 "
MAX_SIGNATURES = 16
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note or checkpoint is malformed or its signature does not verify; the message says which."""


def key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte signed-note key id of an Ed25519 ``public_key`` (32 bytes) under key ``name``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class NoteKey:
    """A verifier's Ed25519 key under a note key name."""

    name: str
    public_key: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The key in the signed-note verifier-key text form ``name+hex(id)+base64(0x01 || key)``."""
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([ED25519]) + self.public_key).decode()}"

    @classmethod
    def from_vkey(cls, text: str) -> NoteKey:
        """Parse a verifier key. Raises :class:`NoteError` when it is not an Ed25519 vkey or its id does not match."""
        name, _, rest = text.strip().partition("+")
        wanted, _, material = rest.partition("+")
        try:
            raw = base64.b64decode(material, validate=True)
        except binascii.Error:
            raise NoteError("verifier key: the key is not base64") from None
        if not _NAME.fullmatch(name) or len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("verifier key: not an Ed25519 key of the form name+keyid+base64key")
        key = cls(name, raw[1:])
        if key.id.hex() != wanted.lower():
            raise NoteError(f"verifier key: key id {wanted} does not match the key ({key.id.hex()})")
        return key


def _check_text(text: str) -> None:
    if not text.endswith("\n") or any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("a note text must end in a newline and hold no control characters but newlines")


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the signed note: ``text``, a blank line and one signature line by ``name``.
    Raises :class:`NoteError` for a text or key name the format does not allow."""
    _check_text(text)
    if not _NAME.fullmatch(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = key_id(name, public) + private_key.sign(text.encode())
    return f"{text}\n{DASH}{name} {base64.b64encode(signature).decode()}\n"


def verify_note(note: str, keys: Iterable[NoteKey]) -> tuple[str, list[NoteKey]]:
    """Check a signed note against known ``keys``; return its text and the keys whose signature verified.

    Signatures by unknown keys are ignored (witness cosignatures, other algorithms). Raises
    :class:`NoteError` when the note is malformed, a known key's signature fails, or no known key signed.
    """
    if len(note) > 1_000_000:
        raise NoteError("the note is too large")
    if not note.endswith("\n") or "\n\n" not in note:
        raise NoteError("not a signed note: no blank line before the signatures")
    text, _, block = note.rpartition("\n\n")
    text += "\n"
    _check_text(text)
    lines = block.split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a signed note needs 1 to {MAX_SIGNATURES} signature lines")
    known = {(key.name, key.id): key for key in keys}
    verified: list[NoteKey] = []
    for line in lines:
        name, signature = _signature_line(line)
        key = known.get((name, signature[:4]))
        if key is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature[4:], text.encode())
        except (InvalidSignature, ValueError):
            raise NoteError(f"the signature by {name} (key id {signature[:4].hex()}) does not verify") from None
        verified.append(key)
    if not verified:
        raise NoteError("no signature by a known key (check the origin and the keys)")
    return text, verified


def _signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(DASH):
        raise NoteError("a signature line must begin with an em dash and a space")
    name, _, encoded = line[len(DASH) :].partition(" ")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError(f"the signature by {name} is not base64") from None
    if not _NAME.fullmatch(name) or len(signature) < 5:
        raise NoteError("a signature line must be: em dash, space, key name, space, base64 signature")
    return name, signature


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A checkpoint's text: the log's origin, its tree size and root hash (32 bytes)."""

    origin: str
    size: int
    root: bytes


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """Return the checkpoint note text (origin, size, base64 root, each on its own line)."""
    if not origin or any(c.isspace() or c == "+" for c in origin) or size < 0 or len(root) != 32:
        raise NoteError("a checkpoint needs an origin without spaces or '+', a size >= 0 and a 32-byte root")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text (extension lines are ignored). Raises :class:`NoteError`."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
        raise NoteError("a checkpoint has at least three non-empty lines: origin, tree size, root hash")
    origin, size, root = lines[:3]
    if not _SIZE.fullmatch(size) or len(size) > 19:
        raise NoteError(f"checkpoint tree size {size!r} is not a decimal number without leading zeros")
    try:
        digest = base64.b64decode(root, validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 32:
        raise NoteError("checkpoint root hash is not 32 bytes of standard base64")
    return Checkpoint(origin, int(size), digest)
