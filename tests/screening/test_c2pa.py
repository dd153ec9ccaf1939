"""Content credentials: a C2PA manifest signed into accepted images with a test key, verified with c2pa-python itself."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import write_policy
from tests.screening import samples
from tests.screening.conftest import MemoryLedger
from ugc_guard import UGCGuard
from ugc_guard.policy.media import C2paSigning
from ugc_guard.screening import ScreeningStage
from ugc_guard.screening.c2pa_signing import USES, training_mining

c2pa = pytest.importorskip("c2pa", reason="c2pa-python is not installed (pip install 'ugc-guard[c2pa]')")


@dataclass
class Keys:
    chain: Path
    key: Path
    anchor: str


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Campaign")])


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """A test CA and an ES256 signing certificate it issued (C2PA's profile: digitalSignature, emailProtection)."""
    folder, now = tmp_path_factory.mktemp("c2pa"), dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment", "key_agreement", "encipher_only", "decipher_only"), False)
    ca = (
        x509.CertificateBuilder().subject_name(_name("Test CA")).issuer_name(_name("Test CA")).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    leaf = (
        x509.CertificateBuilder().subject_name(_name("ugc_guard test signer")).issuer_name(ca.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **usage), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (folder / "chain.pem").write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (folder / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return Keys(folder / "chain.pem", folder / "key.pem", ca.public_bytes(pem).decode())


@dataclass
class Kept:
    bodies: list[tuple[bytes, Any]] = field(default_factory=list)

    async def put(self, request: Request) -> Response:
        self.bodies.append((await request.body(), request.state.ugc))
        return JSONResponse({"ok": True})


@pytest.fixture
def signing(keys: Keys, tmp_path: Path) -> Iterator[tuple[TestClient, Kept]]:
    rights = {"c2pa": {"certificate": str(keys.chain), "private_key": str(keys.key)}}
    path = write_policy(tmp_path / "policy", {"uploads": {"temp_dir": str(tmp_path), "rights": rights}})
    kept = Kept()
    guard = UGCGuard(Starlette(routes=[Route("/raw/{name}", kept.put, methods=["PUT"])]), policy=path)
    ledger = MemoryLedger()
    guard.stages[guard.sites[0]] = [ScreeningStage(guard.sites[0].policy, record=ledger.record, mark_not_stored=ledger.mark_not_stored)]
    with TestClient(guard, base_url="http://testserver") as client:
        yield client, kept


def verified(data: bytes, media_type: str, anchor: str) -> Any:
    settings = c2pa.Settings.from_dict({"verify": {"verify_trust": True}, "trust": {"trust_anchors": anchor}})
    return c2pa.Reader(media_type, io.BytesIO(data), context=c2pa.Context(settings))


@pytest.mark.parametrize(("name", "media_type", "make"), [("a.jpg", "image/jpeg", samples.jpeg), ("a.png", "image/png", samples.png),
                                                          ("a.webp", "image/webp", samples.webp)])  # fmt: skip
def test_accepted_images_carry_a_signed_manifest_with_training_and_mining_not_allowed_and_the_licence(
    signing: tuple[TestClient, Kept], keys: Keys, name: str, media_type: str, make: Any
) -> None:
    client, kept = signing
    response = client.put(f"/raw/{name}", content=make(), headers={"content-type": media_type, **samples.GRANT_HEADERS})
    assert response.status_code == 200, response.text
    ((data, submission),) = kept.bodies
    (delivered,) = submission.files
    assert delivered.rights == ("xmp", "c2pa")
    reader = verified(data, media_type, keys.anchor)
    assert reader.get_validation_state() == "Trusted", reader.get_validation_results()
    active = reader.get_active_manifest()
    assertions = {item["label"]: item["data"] for item in active["assertions"]}
    assert assertions["c2pa.training-mining"] == {"entries": {use: {"use": "notAllowed"} for use in USES}}
    licence = assertions["org.ugc-guard.rights"]
    assert licence["licence_id"] == "LicenseRef-test-ugc" and licence["data_mining"].endswith("/DMI-PROHIBITED")
    assert licence["submission_id"] == submission.id and licence["received_sha256"] == delivered.sha256
    actions = [action["action"] for action in assertions["c2pa.actions.v2"]["actions"]]
    assert actions == ["c2pa.opened", "c2pa.edited.metadata"]
    with Image.open(io.BytesIO(data)) as image:
        image.load()  # still an image, and the XMP written before signing is still there
        packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        assert packet and b"DMI-PROHIBITED" in (packet.encode() if isinstance(packet, str) else packet)


def test_a_changed_byte_breaks_the_credentials(signing: tuple[TestClient, Kept], keys: Keys) -> None:
    client, kept = signing
    response = client.put("/raw/a.jpg", content=samples.jpeg((96, 64)), headers={"content-type": "image/jpeg", **samples.GRANT_HEADERS})
    assert response.status_code == 200
    data = bytearray(kept.bodies[0][0])
    data[-200] ^= 0x55  # one bit pattern in the compressed pixels
    reader = verified(bytes(data), "image/jpeg", keys.anchor)
    failures = {item["code"] for item in reader.get_validation_results()["activeManifest"]["failure"]}
    assert reader.get_validation_state() == "Invalid" and "assertion.dataHash.mismatch" in failures


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("DMI-ALLOWED", dict.fromkeys(USES, "allowed")),
        (
            "DMI-PROHIBITED-AIMLTRAINING",
            {**dict.fromkeys(USES, "allowed"), "c2pa.ai_training": "notAllowed", "c2pa.ai_generative_training": "notAllowed"},
        ),
        ("DMI-PROHIBITED-GENAIMLTRAINING", {**dict.fromkeys(USES, "allowed"), "c2pa.ai_generative_training": "notAllowed"}),
        ("DMI-PROHIBITED-SEECONSTRAINT", dict.fromkeys(USES, "constrained")),
    ],
)
def test_the_plus_data_mining_value_maps_onto_training_and_mining_uses(value: str, expected: dict[str, str]) -> None:
    entries = training_mining("http://ns.useplus.org/ldf/vocab/" + value, "only with written permission")
    assert entries is not None and {use: entry["use"] for use, entry in entries["entries"].items()} == expected
    assert training_mining("http://ns.useplus.org/ldf/vocab/DMI-UNSPECIFIED", None) is None


def test_the_policy_refuses_key_files_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "not.pem").write_text("no key here")
    with pytest.raises(ValueError, match="cannot be read") as missing:
        C2paSigning.model_validate({"certificate": str(tmp_path / "absent.pem"), "private_key": str(tmp_path / "not.pem")})
    assert "is not a PEM file" in str(missing.value)
    assert json.dumps(C2paSigning.model_json_schema())  # documented like every other section
