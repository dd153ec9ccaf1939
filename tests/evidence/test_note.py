"""C2SP signed notes and checkpoints: the spec's example verifies, ours round-trip, and every
malformed or foreign signature is handled as the spec says."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ugc_guard.proof.note import NoteError, NoteKey, checkpoint_text, key_id, parse_checkpoint, sign_note, verify_note

# The example in c2sp.org/signed-note ("Verifier keys"): this vkey verifies this note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_the_spec_example_verifies_and_our_key_id_is_the_spec_one() -> None:
    key = NoteKey.from_vkey(SPEC_VKEY)
    assert key.id.hex() == "530d903a" and key.vkey == SPEC_VKEY
    text, signers = verify_note(SPEC_NOTE, [key])
    assert text == "This is an example message.\n" and signers == [key]
    with pytest.raises(NoteError, match="does not verify"):
        verify_note(SPEC_NOTE.replace("example message", "example massage"), [key])


def test_a_signed_checkpoint_round_trips() -> None:
    private = Ed25519PrivateKey.generate()
    root = bytes(range(32))
    note = sign_note(checkpoint_text("shop.example/ugc-guard/summer", 17, root), "shop.example/ugc-guard/summer", private)
    lines = note.split("\n")
    assert lines[:4] == ["shop.example/ugc-guard/summer", "17", base64.b64encode(root).decode(), ""]
    assert lines[4].startswith("\u2014 shop.example/ugc-guard/summer ") and lines[5] == ""
    signature = base64.b64decode(lines[4].rsplit(" ", 1)[1])
    assert signature[:4] == key_id("shop.example/ugc-guard/summer", public(private)) and len(signature) == 68
    text, _ = verify_note(note, [NoteKey("shop.example/ugc-guard/summer", public(private))])
    assert parse_checkpoint(text).size == 17 and parse_checkpoint(text).root == root


def test_unknown_signers_are_ignored_but_one_known_signature_is_needed() -> None:
    log, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    text = checkpoint_text("o.example/log", 3, b"\x01" * 32)
    note = sign_note(text, "o.example/log", log)
    cosigned = note + sign_note(text, "witness.example", witness).split("\n\n", 1)[1]
    log_key = NoteKey("o.example/log", public(log))
    assert verify_note(cosigned, [log_key])[1] == [log_key]
    with pytest.raises(NoteError, match="no signature by a known key"):
        verify_note(note, [NoteKey("o.example/log", public(witness))])
    with pytest.raises(NoteError, match="no signature by a known key"):
        verify_note(note, [NoteKey("other.example/log", public(log))])


@pytest.mark.parametrize(
    "text",
    [
        "one\ntwo\n",
        "o\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1\nAAAA\n",
        "o\n1\n\n",
        "o\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n\u2014 k AAAA\n",
        "text\n\n- k AAAAAAAA\n",
        "text\n\n\u2014 k not-base64!\n",
        "text\n\n",
        "te\txt\n\n\u2014 k AAAAAAAA\n",
        "text\n\n\u2014 k AAAAAAAA",
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(NoteError):
        verify_note(note, [NoteKey("k", bytes(32))])


def test_names_and_texts_the_format_forbids_are_not_signed() -> None:
    key = Ed25519PrivateKey.generate()
    for name in ("with space", "plus+sign", ""):
        with pytest.raises(NoteError):
            sign_note("text\n", name, key)
    with pytest.raises(NoteError):
        sign_note("no newline", "k", key)
    with pytest.raises(NoteError):
        checkpoint_text("has space", 1, bytes(32))
