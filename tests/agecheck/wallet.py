"""A test issuer (CA and document signer) and a test wallet, built apart from the verifier.

The issuer makes an IACA-style CA and a document-signer certificate with ``cryptography`` and signs
mobile security objects with ``pycose`` (another COSE implementation than the verifier's). The
wallet presents an mdoc as OpenID4VP 1.0 over the Digital Credentials API says: a DeviceResponse
whose device signature covers a session transcript it computes itself from the origin and nonce.
Nothing here imports ``ugc_guard.agecheck``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID, ObjectIdentifier
from pycose.algorithms import EdDSA, Es256, Es384
from pycose.headers import Algorithm, X5chain
from pycose.keys import CoseKey, EC2Key, OKPKey
from pycose.messages import Sign1Message

AV = "eu.europa.ec.av.1"
DS_EKU = ObjectIdentifier("1.3.130.2.0.0.1.2")  # the document-signer EKU in the EU AV reference issuer's certificates
ALGORITHMS = {"ES256": (Es256, ec.SECP256R1), "ES384": (Es384, ec.SECP384R1), "EdDSA": (EdDSA, None)}

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def new_key(alg: str = "ES256") -> PrivateKey:
    curve = ALGORITHMS[alg][1]
    return ed25519.Ed25519PrivateKey.generate() if curve is None else ec.generate_private_key(curve())


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "EU"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test AV Provider"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(
    common_name: str = "Test AV IACA",
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    start = now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or start - dt.timedelta(days=30))
        .not_valid_after(not_after or start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.IssuerAlternativeName([x509.UniformResourceIdentifier("https://issuer.test")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


@dataclass
class Issuer:
    """An attestation provider: its CA, and a document signer certified by it."""

    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    signer_key: PrivateKey
    signer: x509.Certificate
    alg: str = "ES256"
    extra_chain: list[x509.Certificate] = field(default_factory=list)

    def ca_pem(self) -> str:
        return self.ca.public_bytes(Encoding.PEM).decode()


def make_issuer(
    *,
    alg: str = "ES256",
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None,
    signer_not_after: dt.datetime | None = None,
    signer_key_usage: bool = True,
    signer_is_ca: bool = False,
) -> Issuer:
    ca_key, ca_cert = ca or make_ca()
    signer_key = new_key(alg)
    start = now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("Test AV DS 001"))
        .issuer_name(ca_cert.subject)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - dt.timedelta(days=10))
        .not_valid_after(signer_not_after or start + dt.timedelta(days=365))
        .add_extension(x509.KeyUsage(signer_key_usage, False, False, False, not signer_key_usage, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([DS_EKU]), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if signer_is_ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return Issuer(ca_key, ca_cert, signer_key, builder.sign(ca_key, hashes.SHA256()), alg)


def alg_for(key: PrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    return {256: "ES256", 384: "ES384"}[key.curve.key_size]


def _cose_key(key: PrivateKey) -> CoseKey:
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    return (OKPKey if isinstance(key, ed25519.Ed25519PrivateKey) else EC2Key).from_pem_private_key(pem)


def sign1(key: PrivateKey, alg: str, payload: bytes, unprotected: dict[Any, Any] | None = None, *, detached: bool = False) -> list[Any]:
    """Return a COSE_Sign1 array signed by pycose."""
    message = Sign1Message(phdr={Algorithm: ALGORITHMS[alg][0]}, uhdr=unprotected or {}, payload=payload, key=_cose_key(key))
    parts = cbor2.loads(message.encode(tag=False))
    if detached:
        parts[2] = None
    return list(parts)


def device_cose_key(key: PrivateKey) -> dict[int, Any]:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return {1: 1, -1: 6, -2: key.public_key().public_bytes_raw()}
    numbers = key.public_key().public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {1: 2, -1: {256: 1, 384: 2, 521: 3}[key.curve.key_size], -2: numbers.x.to_bytes(size, "big"), -3: numbers.y.to_bytes(size, "big")}


def tdate(moment: dt.datetime) -> cbor2.CBORTag:
    return cbor2.CBORTag(0, moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


@dataclass
class Credential:
    """What the wallet holds after issuance: the issuer-signed part and its device key."""

    doctype: str
    items: dict[str, list[cbor2.CBORTag]]
    issuer_auth: list[Any]
    device_key: PrivateKey


def issue(
    issuer: Issuer,
    claims: dict[str, Any],
    *,
    doctype: str = AV,
    mso_doctype: str | None = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    device_key: PrivateKey | None = None,
    namespace: str = AV,
) -> Credential:
    """Issue an mdoc with ``claims`` in ``namespace``, its MSO signed by the issuer's document signer."""
    device_key = device_key or new_key()
    tagged: list[cbor2.CBORTag] = []
    digests: dict[int, bytes] = {}
    for digest_id, (name, value) in enumerate(claims.items()):
        item = cbor2.CBORTag(24, cbor2.dumps({"digestID": digest_id, "random": os.urandom(16), "elementIdentifier": name, "elementValue": value}))
        tagged.append(item)
        digests[digest_id] = hashlib.sha256(cbor2.dumps(item)).digest()
    start = now()
    mso = {
        "version": "1.0",
        "digestAlgorithm": "SHA-256",
        "valueDigests": {namespace: digests},
        "deviceKeyInfo": {"deviceKey": device_cose_key(device_key)},
        "docType": mso_doctype or doctype,
        "validityInfo": {
            "signed": tdate(valid_from or start - dt.timedelta(hours=1)),
            "validFrom": tdate(valid_from or start - dt.timedelta(hours=1)),
            "validUntil": tdate(valid_until or start + dt.timedelta(days=90)),
        },
    }
    payload = cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(mso)))
    chain = [issuer.signer, *issuer.extra_chain]
    x5chain: bytes | list[bytes] = chain[0].public_bytes(Encoding.DER) if len(chain) == 1 else [c.public_bytes(Encoding.DER) for c in chain]
    issuer_auth = sign1(issuer.signer_key, issuer.alg, payload, {X5chain.identifier: x5chain})
    return Credential(doctype, {namespace: tagged}, issuer_auth, device_key)


def transcript(origin: str, nonce: str) -> list[Any]:
    """The OpenID4VP 1.0 Digital Credentials API session transcript, computed by the wallet."""
    info = hashlib.sha256(cbor2.dumps([origin, nonce, None])).digest()
    return [None, None, ["OpenID4VPDCAPIHandover", info]]


def response(
    credential: Credential, *, origin: str, nonce: str, disclose: list[str] | None = None, signing_key: PrivateKey | None = None
) -> dict[str, Any]:
    """Return the DeviceResponse map presenting ``credential`` for a request with ``nonce`` from ``origin``."""
    namespaces = {
        ns: [item for item in items if disclose is None or cbor2.loads(item.value)["elementIdentifier"] in disclose]
        for ns, items in credential.items.items()
    }
    device_namespaces = cbor2.dumps({})
    authentication = ["DeviceAuthentication", transcript(origin, nonce), credential.doctype, cbor2.CBORTag(24, device_namespaces)]
    signed = cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(authentication)))
    key = signing_key or credential.device_key
    signature = sign1(key, alg_for(key), signed, detached=True)
    document = {
        "docType": credential.doctype,
        "issuerSigned": {"nameSpaces": namespaces, "issuerAuth": credential.issuer_auth},
        "deviceSigned": {"nameSpaces": cbor2.CBORTag(24, device_namespaces), "deviceAuth": {"deviceSignature": signature}},
    }
    return {"version": "1.0", "documents": [document], "status": 0}


def encode(device_response: Any) -> str:
    return base64.urlsafe_b64encode(cbor2.dumps(device_response)).rstrip(b"=").decode()


def present(credential: Credential, *, origin: str, nonce: str, **options: Any) -> str:
    """Return the base64url DeviceResponse a wallet puts in ``vp_token``."""
    return encode(response(credential, origin=origin, nonce=nonce, **options))
