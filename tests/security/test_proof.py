"""Hostile cases for the portable proof: the log's public endpoints, ``ugc-guard proof verify`` offline and
``ugc-guard proof witness``.

Endpoints go through the whole middleware (``raw_request`` sends each query string exactly as written);
every bad query is a 4xx ``application/problem+json`` with its code and never shows an entry's contents.
``verify`` runs in a folder holding only the receipt and the key set; receipts the tests forge are signed
with the log's real key where the point is that something other than the signature must refuse them.
Every refusal is exit 1 and exactly one line; a witness that refuses leaves its store byte for byte as it was.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.evidence.conftest import CAMPAIGN, ORIGIN, SECRET, accept, upload
from tests.security.conftest import GRANTS, Site, jpeg, raw_request
from ugc_guard.cli import main
from ugc_guard.cli import proof as proof_cli
from ugc_guard.ledger import Ledger, tree
from ugc_guard.ledger.checkpoints import sign_checkpoint
from ugc_guard.ledger.prooflog import AsyncProofLog, ProofLog
from ugc_guard.ledger.signing import SigningKey, derive_signing_key
from ugc_guard.proof.jcs import canonical_json
from ugc_guard.proof.jws import sign_detached
from ugc_guard.proof.receipt import signed_part
from ugc_guard.transparency import routes

OTHER_SECRET = "another-secret-entirely-" + "o" * 8
PROBLEM = "application/problem+json"
REDIRECTED = "redirects to http://elsewhere.example/ugc-guard/checkpoint (give that URL if you trust it)"

# -- 1. the endpoints -----------------------------------------------------------------------------------------


@dataclass
class Published:
    site: Site
    subject: str
    content_sha256: str
    submission: int


@pytest.fixture
def published(make_site: Callable[..., Site]) -> Published:
    """A site whose log holds an acceptance and an upload: 6 entries (acceptance, age result, submission, licence, portrait,
    and the submission's status once the app answered)."""
    site = make_site()
    client = site.client()
    accepted = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "accept_licence": True, "birth_date": "1990-05-17"})
    assert accepted.status_code == 201, accepted.text
    photo = jpeg()
    assert client.post("/upload", files={"media": ("holiday-beach.jpg", photo, "image/jpeg")}, data=GRANTS).status_code == 201
    receipt = site.spy.calls[-1]["ugc"].receipt.to_dict()
    assert get_size(site) == 6
    return Published(site, accepted.json()["receipt"]["entries"][0]["subject"], hashlib.sha256(photo).hexdigest(), receipt["entry_id"])


def get_size(site: Site) -> int:
    return int(raw_request(site.guard, "GET", "/ugc-guard/checkpoint").body.split(b"\n")[1])


def get(published: Published, target: str, method: str = "GET") -> Any:
    return raw_request(published.site.guard, method, target)


def assert_no_contents(published: Published, body: bytes) -> None:
    text = body.decode()
    for secret in (published.subject, published.content_sha256, "holiday-beach", "image/jpeg", "sealed", "1990", "terms_version"):
        assert secret not in text


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, "invalid-request"),  # entry missing
        ("entry", 400, "invalid-request"),
        ("entry=", 400, "invalid-request"),
        ("size=3", 400, "invalid-request"),
        ("entry=1&entry=2", 400, "invalid-request"),  # duplicated: which one counts differs between parsers and caches
        ("entry=1&size=5&size=3", 400, "invalid-request"),
        ("entry=-1", 400, "invalid-request"),
        ("entry=0", 400, "invalid-request"),
        ("entry=1.0", 400, "invalid-request"),
        ("entry=1e3", 400, "invalid-request"),
        ("entry=0x1", 400, "invalid-request"),
        ("entry=%2B1", 400, "invalid-request"),
        ("entry=" + str(10**30), 400, "invalid-request"),
        ("entry=%D9%A1%D9%A2", 400, "invalid-request"),  # Arabic-Indic ١٢
        ("entry=%EF%BC%94", 400, "invalid-request"),  # fullwidth ４
        ("entry=%201", 400, "invalid-request"),
        ("entry=1%20", 400, "invalid-request"),
        ("entry=1%0A", 400, "invalid-request"),
        ("entry=%00", 400, "invalid-request"),
        ("entry=1;size=2", 400, "invalid-request"),
        ("entry=1&size=0", 400, "invalid-request"),
        ("entry=1&size=7", 400, "invalid-request"),  # beyond the tree
        ("entry=1&size=" + str(2**62 + 1), 400, "invalid-request"),
        ("entry=4&size=3", 400, "invalid-request"),  # the entry is not in a tree of 3
        ("entry=1&sise=3", 400, "invalid-request"),  # unknown (misspelt) parameter
        ("entry=1&_=1733190000", 400, "invalid-request"),
        ("entry=1&" + "&".join(f"a{index}=1" for index in range(12)), 400, "invalid-request"),
        ("entry=999999", 404, "not-found"),
    ],
)
def test_inclusion_refuses_hostile_queries(published: Published, query: str, status: int, code: str) -> None:
    answer = get(published, "/ugc-guard/proof/inclusion?" + query)
    assert (answer.status, answer.headers["content-type"], answer.code) == (status, PROBLEM, code)
    assert answer.headers["cache-control"] == "no-store"
    assert_no_contents(published, answer.body)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "from=",
        "to=3",
        "from=1&from=2",
        "from=1&to=3&to=5",
        "from=-1",
        "from=1.5",
        "from=0x2",
        "from=" + str(10**30),
        "from=%D9%A1",
        "from=%201",
        "from=1&to=%D9%A3",
        "from=4&to=3",  # first > second
        "from=7",  # beyond the tree
        "from=0&to=7",
        "from=2&t0=3",  # unknown (misspelt) parameter: it would silently give the proof to the current size
    ],
)
def test_consistency_refuses_hostile_queries(published: Published, query: str) -> None:
    answer = get(published, "/ugc-guard/proof/consistency?" + query)
    assert (answer.status, answer.headers["content-type"], answer.code) == (400, PROBLEM, "invalid-request")
    assert answer.headers["cache-control"] == "no-store"
    assert_no_contents(published, answer.body)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("entry=1&entry=2", "query parameter entry is given more than once"),
        ("entry=1&sise=3", "unknown query parameter 'sise' (this proof takes entry and size)"),
    ],
)
def test_the_standalone_routes_refuse_the_same_way(tmp_path: Path, query: str, message: str) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", secret=SECRET)
    ledger.upgrade()
    accept(ledger, "a")
    with TestClient(Starlette(routes=routes(AsyncProofLog(ProofLog(ledger, CAMPAIGN, ORIGIN, [SECRET]))))) as client:
        answer = client.get("/ugc-guard/proof/inclusion?" + query)
    ledger.close()
    assert (answer.status_code, answer.headers["content-type"]) == (400, PROBLEM)
    assert (answer.json()["code"], answer.json()["detail"]) == ("invalid-request", message)


@pytest.mark.parametrize(
    ("target", "cache_control", "content_type"),
    [
        ("/ugc-guard/checkpoint", "no-cache", "text/plain; charset=utf-8"),
        ("/ugc-guard/keys", "public, max-age=300", "application/jwk-set+json"),
        ("/ugc-guard/proof/inclusion?entry=3", "no-cache", "application/json"),
        ("/ugc-guard/proof/inclusion?entry=3&size=4", "public, max-age=31536000, immutable", "application/json"),
        ("/ugc-guard/proof/consistency?from=2", "no-cache", "application/json"),
        ("/ugc-guard/proof/consistency?from=2&to=5", "public, max-age=31536000, immutable", "application/json"),
    ],
)
def test_answers_are_public_hashes_only_with_the_documented_caching(published: Published, target: str, cache_control: str, content_type: str) -> None:
    answer = get(published, target)
    assert (answer.status, answer.headers["content-type"], answer.headers["cache-control"]) == (200, content_type, cache_control)
    assert answer.headers["access-control-allow-origin"] == "*"
    assert_no_contents(published, answer.body)
    if "proof/inclusion" in target:
        assert set(answer.json()) == {"origin", "entry_id", "leaf_index", "tree_size", "entry_hash", "proof"}
    head = get(published, target, "HEAD")
    assert (head.status, head.headers["content-type"], head.headers["cache-control"]) == (200, content_type, cache_control)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
@pytest.mark.parametrize(
    "path", ["/ugc-guard/checkpoint", "/ugc-guard/keys", "/ugc-guard/proof/inclusion?entry=1", "/ugc-guard/proof/consistency?from=1"]
)
def test_only_get_and_head(published: Published, method: str, path: str) -> None:
    answer = get(published, path, method)
    assert (answer.status, answer.headers["content-type"], answer.code) == (405, PROBLEM, "method-not-allowed")
    assert answer.headers["allow"] == "GET, HEAD"


# -- 2. offline verify ----------------------------------------------------------------------------------------


@dataclass
class Log:
    ledger: Ledger
    log: ProofLog
    key: SigningKey
    receipt: dict[str, Any]
    keys: dict[str, Any]
    folder: Path

    @property
    def kid(self) -> str:
        return self.key.kid

    def run(self, *args: str) -> Any:
        return CliRunner().invoke(main, ["proof", *args], catch_exceptions=False)


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Log]:
    """A SQLite log of 5 entries (an acceptance and an upload) and the upload's receipt, in an empty working folder."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", secret=SECRET)
    ledger.upgrade()
    proof_log = ProofLog(ledger, CAMPAIGN, ORIGIN, [SECRET])
    submission = upload(ledger, "uploader", b"the photo")
    receipt = proof_log.issue_receipt(submission).to_dict()
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    yield Log(ledger, proof_log, SigningKey.of(derive_signing_key(SECRET, CAMPAIGN)), receipt, proof_log.jwks(), folder)
    ledger.close()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resigned(receipt: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """The receipt signed again by ``key`` over its canonical JSON (a forgery by whoever holds the key)."""
    return {**receipt, "signature": sign_detached(signed_part(receipt), key.private, key.kid)}


def verify(log: Log, receipt: str | bytes | dict[str, Any], keys: str | dict[str, Any] | None = None, *extra: str) -> Any:
    text = json.dumps(receipt) if isinstance(receipt, dict) else receipt
    (log.folder / "receipt.json").write_bytes(text.encode() if isinstance(text, str) else text)
    keys_text = json.dumps(log.keys if keys is None else keys) if not isinstance(keys, str) else keys
    (log.folder / "keys.json").write_text(keys_text, encoding="utf-8")
    return log.run("verify", "receipt.json", "--keys", "keys.json", *extra)


def refused(result: Any, line: str) -> None:
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", line + "\n")


def valid_line(log: Log, kid: str | None = None) -> str:
    return (
        f"valid: entry {log.receipt['entry_id']} (submission) and 2 recorded with it in log {ORIGIN} at tree size 5, "
        f"receipt signed by key {kid or log.kid}"
    )


def test_the_genuine_receipt_is_valid(log: Log) -> None:
    result = verify(log, log.receipt)
    assert (result.exit_code, result.stdout, result.stderr) == (0, valid_line(log) + "\n", "")
    assert sorted(path.name for path in log.folder.iterdir()) == ["keys.json", "receipt.json"]


def test_the_file_layout_does_not_matter(log: Log) -> None:
    laid_out = json.dumps(dict(reversed(list(log.receipt.items()))), indent=3, ensure_ascii=True, sort_keys=False)
    result = verify(log, laid_out.replace("/", "\\/"))
    assert (result.exit_code, result.stdout) == (0, valid_line(log) + "\n")


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", "invalid: the receipt is not JSON: Expecting value: line 1 column 1 (char 0)"),
        ("receipt", "invalid: the receipt is not JSON: Expecting value: line 1 column 1 (char 0)"),
        (
            '{"format": "ugc-guard-receipt/2",',
            "invalid: the receipt is not JSON: Expecting property name enclosed in double quotes: line 1 column 34 (char 33)",
        ),
        ("\ufeff{}", "invalid: the receipt is not JSON: Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"),
        ("[]", "invalid: not a signed receipt: format must be 'ugc-guard-receipt/2'"),
        ('"ugc-guard-receipt/2"', "invalid: not a signed receipt: format must be 'ugc-guard-receipt/2'"),
        ('{"format": "ugc-guard-receipt/1"}', "invalid: not a signed receipt: format must be 'ugc-guard-receipt/2'"),
        ('{"format": "ugc-guard-receipt/2"}', "invalid: receipt member origin is missing or not a str"),
        (deep(100_000), "invalid: the receipt is not JSON: nested deeper than 32 levels"),
        (deep(40), "invalid: the receipt is not JSON: nested deeper than 32 levels"),
        (
            '{"entry_id": 1' + "0" * 5000 + "}",
            "invalid: the receipt is not JSON: Exceeds the limit (4300 digits) for integer string conversion: "
            "value has 5001 digits; use sys.set_int_max_str_digits() to increase the limit",
        ),
        (
            '{"format": "ugc-guard-receipt/2", "format": "ugc-guard-receipt/2"}',
            "invalid: the receipt is not JSON: member 'format' appears twice in an object (I-JSON, RFC 7493, forbids it)",
        ),
    ],
)
def test_receipt_files_that_are_no_receipt(log: Log, text: str, line: str) -> None:
    refused(verify(log, text), line)


def test_a_receipt_file_that_is_not_utf8(log: Log) -> None:
    result = verify(log, b"\xff\xfe{}")
    assert result.exit_code == 1 and result.stdout == "" and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: cannot read receipt receipt.json: 'utf-8' codec can't decode byte 0xff")


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (lambda r: r.update(entry_id=str(r["entry_id"])), "invalid: receipt member entry_id is missing or not a int"),
        (lambda r: r.update(entry_id=True), "invalid: receipt member entry_id is missing or not a int"),
        (lambda r: r.update(entries={}), "invalid: receipt member entries is missing or not a list"),
        (lambda r: r.update(entries=[]), "invalid: entries: the first entry must be the one the receipt is for (entry_id)"),
        (
            lambda r: r.update(entries=[r["entries"][1], *r["entries"]]),
            "invalid: entries: the first entry must be the one the receipt is for (entry_id)",
        ),
        (lambda r: r["entries"][0].pop("body"), "invalid: entries[0] (entry 3): field body is missing or not a str"),
        (lambda r: r["entries"][1].update(inclusion="AAAA"), "invalid: entries[1] (entry 4): field inclusion is missing or not a list"),
        (lambda r: r.update(signature=r["signature"].replace("..", ".e30.")), "invalid: signature: not a detached compact JWS (header..signature)"),
        (lambda r: r.update(pad="x" * (3 * 1024 * 1024)), "invalid: signature: does not verify with key {kid} (the receipt was changed)"),
        (lambda r: r.update(pad="x" * (5 * 1024 * 1024)), "error: cannot read receipt receipt.json: the file is larger than 4 MiB"),
        (lambda r: r.update(pad=json.loads(deep(31))), "invalid: signature: does not verify with key {kid} (the receipt was changed)"),
    ],
)
def test_receipts_of_the_wrong_shape(log: Log, change: Callable[[dict[str, Any]], Any], line: str) -> None:
    receipt = json.loads(json.dumps(log.receipt))
    change(receipt)
    refused(verify(log, receipt), line.format(kid=log.kid))


def test_a_duplicate_member_inside_an_entry_is_refused_even_when_the_last_one_verifies(log: Log) -> None:
    text = json.dumps(log.receipt)
    subject = json.dumps(log.receipt["entries"][0]["subject"])
    forged = text.replace('"subject": ' + subject, '"subject": "someone-else", "subject": ' + subject, 1)
    assert json.loads(forged) == log.receipt  # a last-one-wins parser sees the genuine receipt; a first-one-wins parser sees someone else
    refused(verify(log, forged), "invalid: the receipt is not JSON: member 'subject' appears twice in an object (I-JSON, RFC 7493, forbids it)")


def header_signature(header: dict[str, Any], signing_input: bytes, sign: Callable[[bytes], bytes]) -> str:
    encoded = b64url(json.dumps(header).encode())
    return f"{encoded}..{b64url(sign(encoded.encode() + b'.' + b64url(signing_input).encode()))}"


@pytest.mark.parametrize(
    ("header", "line"),
    [
        ({"alg": "none", "kid": "{kid}"}, 'invalid: signature: the protected header must name alg "EdDSA" and a kid'),
        ({"alg": "HS256", "kid": "{kid}"}, 'invalid: signature: the protected header must name alg "EdDSA" and a kid'),
        ({"alg": "Ed25519", "kid": "{kid}"}, 'invalid: signature: the protected header must name alg "EdDSA" and a kid'),
        ({"alg": "EdDSA"}, 'invalid: signature: the protected header must name alg "EdDSA" and a kid'),
        ({"alg": "EdDSA", "kid": 1}, 'invalid: signature: the protected header must name alg "EdDSA" and a kid'),
        ({"alg": "EdDSA", "kid": "not-a-key-of-this-log"}, "invalid: signature: key not-a-key-of-this-log is not in the key set"),
    ],
)
def test_algorithm_confusion_is_refused(log: Log, header: dict[str, Any], line: str) -> None:
    header = {name: value.format(kid=log.kid) if isinstance(value, str) else value for name, value in header.items()}
    public = base64.urlsafe_b64decode(log.keys["keys"][0]["x"] + "==")  # HS256 keyed with the public key: the classic confusion

    def sign(data: bytes) -> bytes:
        return b"" if header.get("alg") == "none" else hmac.new(public, data, hashlib.sha256).digest()

    refused(verify(log, {**log.receipt, "signature": header_signature(header, signed_part(log.receipt), sign)}), line)


def test_a_signature_by_the_other_published_key_is_refused(log: Log) -> None:
    rotated = ProofLog(log.ledger, CAMPAIGN, ORIGIN, [OTHER_SECRET, SECRET])  # both keys published, the new one current
    other = SigningKey.of(derive_signing_key(OTHER_SECRET, CAMPAIGN))
    swapped = log.receipt["signature"].split(".")
    swapped[0] = b64url(json.dumps({"alg": "EdDSA", "kid": other.kid}).encode())
    refused(
        verify(log, {**log.receipt, "signature": ".".join(swapped)}, rotated.jwks()),
        f"invalid: signature: does not verify with key {other.kid} (the receipt was changed)",
    )


@pytest.mark.parametrize(
    ("encode", "exit_code"),
    [
        (canonical_json, 0),  # JCS: the only form that verifies
        (lambda value: json.dumps(value, separators=(",", ":")).encode(), 1),  # member order as written
        (lambda value: json.dumps(value, separators=(",", ":"), sort_keys=True).encode(), 1),  # \\u00e9 escapes
        (lambda value: json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode(), 0),  # here the same bytes as JCS
        (lambda value: json.dumps(value, sort_keys=True, ensure_ascii=False).encode(), 1),  # whitespace
    ],
)
def test_only_the_canonical_json_is_signed(log: Log, encode: Callable[[Any], bytes], exit_code: int) -> None:
    receipt = {**log.receipt, "note": "café ☕"}
    unsigned = {name: value for name, value in receipt.items() if name != "signature"}
    receipt["signature"] = sign_detached(encode(unsigned), log.key.private, log.kid)
    result = verify(log, receipt)
    if exit_code == 0:
        assert (result.exit_code, result.stdout, result.stderr) == (0, valid_line(log) + "\n", "")
    else:
        refused(result, f"invalid: signature: does not verify with key {log.kid} (the receipt was changed)")


def jwk(**members: Any) -> dict[str, Any]:
    return {"keys": [members]}


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        ("", "invalid: keys.json: the key set is not JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[]", 'invalid: keys.json: a key set is a JSON object with a "keys" array'),
        (
            jwk(kty="EC", crv="P-256", x="f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", y="x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"),
            "invalid: keys.json: the key set holds no Ed25519 signing key",
        ),
        (
            jwk(kty="RSA", n="sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1Wl", e="AQAB"),
            "invalid: keys.json: the key set holds no Ed25519 signing key",
        ),
        (
            jwk(kty="OKP", crv="X25519", x="hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo"),
            "invalid: keys.json: the key set holds no Ed25519 signing key",
        ),
        (jwk(kty="OKP", crv="Ed25519", x="AAAA"), "invalid: keys.json: keys[0]: x is not a 32-byte Ed25519 key in base64url"),
        (
            '{"keys": [], "keys": []}',
            "invalid: keys.json: the key set is not JSON: member 'keys' appears twice in an object (I-JSON, RFC 7493, forbids it)",
        ),
    ],
)
def test_key_sets_without_the_log_key(log: Log, keys: str | dict[str, Any], line: str) -> None:
    refused(verify(log, log.receipt, keys), line)


def test_the_right_kid_with_another_key_is_refused(log: Log) -> None:
    other = ProofLog(log.ledger, CAMPAIGN, ORIGIN, [OTHER_SECRET]).jwks()["keys"][0]
    other_kid = other["kid"]
    refused(
        verify(log, log.receipt, jwk(**{**other, "kid": log.kid})),
        f"invalid: keys.json: keys[0]: kid {log.kid!r} is not the key's thumbprint {other_kid}",
    )
    del other["kid"]
    refused(verify(log, log.receipt, jwk(**other)), "invalid: checkpoint: no signature by a known key (check the origin and the keys)")


def test_the_log_key_for_encryption_only_is_no_signing_key(log: Log) -> None:
    refused(verify(log, log.receipt, jwk(**{**log.keys["keys"][0], "use": "enc"})), "invalid: keys.json: the key set holds no Ed25519 signing key")


def test_a_receipt_signed_by_a_retired_key_stays_valid(log: Log) -> None:
    rotated = ProofLog(log.ledger, CAMPAIGN, ORIGIN, [OTHER_SECRET, SECRET]).jwks()
    assert [key["status"] for key in rotated["keys"]] == ["current", "retired"] and rotated["keys"][1]["kid"] == log.kid
    result = verify(log, log.receipt, rotated)
    assert (result.exit_code, result.stdout, result.stderr) == (0, valid_line(log) + "\n", "")


def test_a_receipt_whose_own_checkpoint_is_smaller_than_its_entries(log: Log) -> None:
    with log.ledger._core.connect() as connection:
        root = tree.root(connection, CAMPAIGN, 2, 5)
    forged = resigned({**log.receipt, "checkpoint": sign_checkpoint(ORIGIN, 2, root, log.key).note}, log.key)
    refused(verify(log, forged), f"invalid: entries[0] (entry {log.receipt['entry_id']}): position 3 is beyond the checkpoint's 2 entries")


def signature_line(note: str) -> str:
    return note.rstrip("\n").rpartition("\n")[2]


def key_id_of(note: str) -> str:
    return base64.b64decode(signature_line(note).rpartition(" ")[2])[:4].hex()


def later(log: Log, note: str, consistency: dict[str, Any] | None = None) -> Any:
    (log.folder / "later.txt").write_text(note, encoding="utf-8")
    extra = ["--checkpoint", "later.txt"]
    if consistency is not None:
        (log.folder / "proof.json").write_text(json.dumps(consistency), encoding="utf-8")
        extra += ["--consistency", "proof.json"]
    return verify(log, log.receipt, None, *extra)


def test_the_genuine_later_checkpoint_is_consistent(log: Log) -> None:
    result = later(log, log.log.checkpoint().note)
    assert (result.exit_code, result.stdout) == (0, valid_line(log) + "; consistent with the later checkpoint\n")


def test_a_later_checkpoint_with_a_cosignature_by_an_unknown_key_is_valid(log: Log) -> None:
    note = log.log.checkpoint().note
    cosigned = note + "\u2014 witness.example/w1 " + base64.b64encode(b"\x01\x02\x03\x04" + b"s" * 64).decode() + "\n"
    result = later(log, cosigned)
    assert (result.exit_code, result.stdout) == (0, valid_line(log) + "; consistent with the later checkpoint\n")


def corrupt(line: str) -> str:
    name, _, encoded = line.rpartition(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    return f"{name} {base64.b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize(
    ("mangle", "line"),
    [
        (
            lambda note, key: sign_checkpoint("other.example/ugc-guard/summer", 5, base64.b64decode(note.split("\n")[2]), key).note,
            "invalid: checkpoint: it is for log 'other.example/ugc-guard/summer', not '" + ORIGIN + "'",
        ),
        (
            lambda note, key: note + corrupt(signature_line(note)) + "\n",
            "invalid: checkpoint: the signature by " + ORIGIN + " (key id {id}) does not verify",
        ),
        (
            lambda note, key: note.replace(signature_line(note), corrupt(signature_line(note))),
            "invalid: checkpoint: the signature by " + ORIGIN + " (key id {id}) does not verify",
        ),
        (lambda note, key: note + (signature_line(note) + "\n") * 16, "invalid: checkpoint: a signed note needs 1 to 16 signature lines"),
        (lambda note, key: note.replace("\u2014 ", "- "), "invalid: checkpoint: a signature line must begin with an em dash and a space"),
        (lambda note, key: note.replace("\u2014 ", "\u2013 "), "invalid: checkpoint: a signature line must begin with an em dash and a space"),
        (lambda note, key: note.replace("\u2014 ", "\u2014"), "invalid: checkpoint: a signature line must begin with an em dash and a space"),
        (
            lambda note, key: note.replace("\n\n", "\n"),
            "invalid: checkpoint: a checkpoint has at least three non-empty lines: origin, tree size, root hash",
        ),
        (
            lambda note, key: note.replace("\n5\n", "\n05\n"),
            "invalid: checkpoint: checkpoint tree size '05' is not a decimal number without leading zeros",
        ),
        (
            lambda note, key: sign_checkpoint(ORIGIN, 5, b"\x00" * 32, key).note,
            "invalid: the log is not consistent with the receipt's checkpoint: two different roots for the same tree size 5 (fork)",
        ),
        (
            lambda note, key: sign_checkpoint(ORIGIN, 3, b"\x00" * 32, key).note,
            "invalid: a checkpoint of another size needs a consistency proof from 3 to 5 (GET …/proof/consistency?from=3&to=5)",
        ),
    ],
)
def test_bad_later_checkpoints(log: Log, mangle: Callable[[str, SigningKey], str], line: str) -> None:
    note = log.log.checkpoint().note
    refused(later(log, mangle(note, log.key)), line.format(id=key_id_of(note)))


def test_a_smaller_later_checkpoint_needs_a_proof_that_joins_it(log: Log) -> None:
    with log.ledger._core.connect() as connection:
        root = tree.root(connection, CAMPAIGN, 3, 5)
    smaller = sign_checkpoint(ORIGIN, 3, root, log.key).note
    refused(
        later(log, smaller, {"from": 3, "to": 5, "proof": []}),
        "invalid: the log is not consistent with the receipt's checkpoint: the consistency proof is empty",
    )
    result = later(log, smaller, log.log.consistency(3, 5))
    assert (result.exit_code, result.stdout) == (0, valid_line(log) + "; consistent with the later checkpoint\n")


# -- 3. the witness -------------------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()} if folder.exists() else {}


@pytest.fixture
def witnessed(log: Log) -> Log:
    """``log`` with a witness store in ``store/`` that accepted the checkpoint of 5 entries."""
    (log.folder / "keys.json").write_text(json.dumps(log.keys), encoding="utf-8")
    (log.folder / "first.txt").write_text(log.log.checkpoint().note, encoding="utf-8")
    result = log.run("witness", "first.txt", "--store", "store", "--keys", "keys.json")
    assert (result.exit_code, result.stdout) == (0, f"accepted: {ORIGIN} at tree size 5 (first checkpoint stored)\n")
    return log


def witness_refuses(log: Log, note: str, line: str, *extra: str) -> None:
    before = snapshot(log.folder / "store")
    (log.folder / "next.txt").write_text(note, encoding="utf-8")
    refused(log.run("witness", "next.txt", "--store", "store", *extra), line)
    assert snapshot(log.folder / "store") == before


def test_the_witness_refuses_a_rollback(witnessed: Log) -> None:
    with witnessed.ledger._core.connect() as connection:
        root = tree.root(connection, CAMPAIGN, 3, 5)
    witness_refuses(witnessed, sign_checkpoint(ORIGIN, 3, root, witnessed.key).note, f"refused: rollback: {ORIGIN} shows 3 entries after showing 5")


def test_the_witness_refuses_a_fork_of_the_same_size(witnessed: Log) -> None:
    witness_refuses(
        witnessed,
        sign_checkpoint(ORIGIN, 5, b"\x07" * 32, witnessed.key).note,
        f"refused: fork: {ORIGIN} at 5 is not an extension of 5: two different roots for the same tree size 5 (fork)",
    )


def test_the_witness_refuses_a_grown_tree_with_a_proof_that_does_not_join(witnessed: Log) -> None:
    accept(witnessed.ledger, "later")  # the log grows to 7 entries
    proof = witnessed.log.consistency(5, 7)
    proof["proof"][0] = base64.b64encode(b"\x01" * 32).decode()
    (witnessed.folder / "proof.json").write_text(json.dumps(proof), encoding="utf-8")
    witness_refuses(
        witnessed,
        witnessed.log.checkpoint().note,
        f"refused: fork: {ORIGIN} at 7 is not an extension of 5: "
        "the consistency proof does not lead to the root of the 5-leaf tree (fork or rewrite)",
        "--consistency",
        "proof.json",
    )


def test_the_witness_refuses_a_bad_signature(witnessed: Log) -> None:
    other = SigningKey.of(derive_signing_key(OTHER_SECRET, CAMPAIGN))
    witness_refuses(
        witnessed,
        sign_checkpoint(ORIGIN, 6, b"\x07" * 32, other).note,
        "refused: checkpoint: no signature by a known key (check the origin and the keys)",
    )
    note = witnessed.log.checkpoint().note
    witness_refuses(
        witnessed,
        note.replace(signature_line(note), corrupt(signature_line(note))),
        f"refused: checkpoint: the signature by {ORIGIN} (key id {key_id_of(note)}) does not verify",
    )


def test_an_origin_of_dots_stays_inside_the_store(log: Log) -> None:
    (log.folder / "keys.json").write_text(json.dumps(log.keys), encoding="utf-8")
    for origin in ("..", "."):
        (log.folder / "dots.txt").write_text(sign_checkpoint(origin, 1, b"\x07" * 32, log.key).note, encoding="utf-8")
        result = log.run("witness", "dots.txt", "--store", "store/inner", "--keys", "keys.json")
        assert (result.exit_code, result.stdout) == (0, f"accepted: {origin} at tree size 1 (first checkpoint stored)\n")
    assert sorted(path.name for path in (log.folder / "store").iterdir()) == ["inner"]
    assert sorted(path.name for path in (log.folder / "store" / "inner").iterdir()) == ["%2E", "%2E."]


def test_a_store_that_cannot_be_written(log: Log) -> None:
    (log.folder / "keys.json").write_text(json.dumps(log.keys), encoding="utf-8")
    (log.folder / "first.txt").write_text(log.log.checkpoint().note, encoding="utf-8")
    (log.folder / "store").mkdir()
    blocker = log.folder / "store" / ORIGIN.replace("/", "%2F")
    blocker.write_text("a file where the log's folder should be")  # root ignores permission bits, so block it this way
    witness_refuses(
        log,
        log.log.checkpoint().note,
        f"error: the witness store store cannot be read or written: [Errno 17] File exists: '{blocker.relative_to(log.folder)}'",
        "--keys",
        "keys.json",
    )
    result = log.run("witness", "first.txt", "--store", "keys.json/store", "--keys", "keys.json")
    refused(
        result,
        "error: the witness store keys.json/store cannot be read or written: "
        "[Errno 20] Not a directory: 'keys.json/store/shop.example%2Fugc-guard%2Fsummer'",
    )


def test_a_store_whose_keys_were_damaged(witnessed: Log) -> None:
    stored = witnessed.folder / "store" / ORIGIN.replace("/", "%2F") / "keys.json"
    stored.write_text("{", encoding="utf-8")
    witness_refuses(
        witnessed,
        witnessed.log.checkpoint().note,
        "error: the witness store store cannot be read or written: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    )


class Hostile(http.server.BaseHTTPRequestHandler):
    """What the hostile site does at every path: ``behaviour`` is redirect, huge, hangup, drip or stall."""

    behaviour = "redirect"
    release = threading.Event()

    def do_GET(self) -> None:
        if self.behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://elsewhere.example/ugc-guard/checkpoint")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.behaviour == "huge":
            size = 5 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(b"a" * size)
        elif self.behaviour == "drip":  # a byte at a time, each well within the per-read timeout
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            while not self.release.wait(0.05):
                self.wfile.write(b"a")
                self.wfile.flush()
        elif self.behaviour == "hangup":
            self.close_connection = True  # read the request, answer nothing
        else:
            self.release.wait()  # never answers while the witness waits

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[Callable[[str], str]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(behaviour: str) -> str:
        handler = type("Handler", (Hostile,), {"behaviour": behaviour, "release": threading.Event()})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/ugc-guard"

    yield start
    for server in servers:
        server.RequestHandlerClass.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("redirect", f"HTTP Error 302: {REDIRECTED}"),
        ("huge", "the answer is larger than 4 MiB"),
        ("hangup", "Remote end closed connection without response"),
        ("stall", "timed out"),
        ("drip", "the answer did not arrive within 0.5 s"),
    ],
)
def test_a_hostile_source_is_refused_and_nothing_is_stored(
    witnessed: Log, hostile: Callable[[str], str], monkeypatch: pytest.MonkeyPatch, behaviour: str, reason: str
) -> None:
    monkeypatch.setattr(proof_cli, "FETCH_TIMEOUT", 0.5)  # the stalling server answers only after the test
    base = hostile(behaviour)
    before = snapshot(witnessed.folder / "store")
    result = witnessed.run("witness", f"{base}/checkpoint", "--store", "store")
    refused(result, f"error: cannot read checkpoint {base}/checkpoint: {reason}")
    assert snapshot(witnessed.folder / "store") == before


def test_keys_from_a_redirecting_site_are_refused(log: Log, hostile: Callable[[str], str]) -> None:
    base = hostile("redirect")
    (log.folder / "first.txt").write_text(log.log.checkpoint().note, encoding="utf-8")
    result = log.run("witness", "first.txt", "--store", "store", "--keys", f"{base}/keys")
    refused(
        result,
        f"error: cannot read keys {base}/keys: HTTP Error 302: {REDIRECTED}",
    )
    assert not (log.folder / "store").exists()
