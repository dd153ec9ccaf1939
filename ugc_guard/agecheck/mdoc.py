"""ISO/IEC 18013-5 mdoc structures (§8.3.2.1.2.2 DeviceResponse, §9.1.2.4 MSO), read from untrusted CBOR.

Reading checks shapes only; signatures, digests and validity are checked by :mod:`.verify`. Every
structure problem is :class:`AgeProofError` ``malformed`` naming the place.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from .cbordecode import DateText, Embedded, as_bytes, as_embedded, as_int, as_list, as_map, as_text, decode, get
from .cose import X5CHAIN, PublicKey, Sign1, cose_public_key, parse_sign1
from .errors import AgeProofError, Reason

__all__ = ["AV_DOCTYPE", "AV_NAMESPACE", "Document", "IssuerItem", "SecurityObject", "parse_device_response", "parse_mso"]

AV_DOCTYPE = "eu.europa.ec.av.1"
AV_NAMESPACE = "eu.europa.ec.av.1"
"""EU age-verification Proof of Age attestation: doctype and namespace (technical specification, annex A)."""
DIGESTS = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
MAX_ITEMS = 64


@dataclass(frozen=True, slots=True)
class IssuerItem:
    """One disclosed data element and the exact tag 24 encoding its value digest covers."""

    namespace: str
    digest_id: int
    identifier: str
    value: Any
    tagged: bytes


@dataclass(frozen=True, slots=True)
class Document:
    doctype: str
    items: tuple[IssuerItem, ...]
    issuer_auth: Sign1
    x5chain: tuple[bytes, ...]
    device_namespaces: bytes
    """The bytes inside ``DeviceNameSpacesBytes`` (tag 24), as received."""
    device_signature: Sign1


@dataclass(frozen=True, slots=True)
class SecurityObject:
    """The mobile security object the issuer signed."""

    doctype: str
    digest_algorithm: str
    """The :mod:`hashlib` name (``sha256``…)."""
    value_digests: dict[str, dict[int, bytes]]
    device_key: PublicKey
    signed: _dt.datetime
    valid_from: _dt.datetime
    valid_until: _dt.datetime


def parse_device_response(data: bytes) -> Document:
    """Return the one document of the CBOR ``DeviceResponse`` in ``data``.

    Raises :class:`AgeProofError`: ``malformed`` for any shape problem or a status other than 0, and
    ``claim-missing`` when the wallet returned no document at all.
    """
    response = as_map(decode(data, "the DeviceResponse"), "DeviceResponse")
    if get(response, "version", as_text, "DeviceResponse").split(".")[0] != "1":
        raise AgeProofError(Reason.malformed, "DeviceResponse.version must be 1.x")
    status = get(response, "status", as_int, "DeviceResponse")
    if status != 0:
        raise AgeProofError(Reason.malformed, f"the wallet reported DeviceResponse status {status} instead of 0 (OK)")
    documents = as_list(response.get("documents", []), "DeviceResponse.documents")
    if not documents:
        raise AgeProofError(Reason.claim_missing, "the wallet returned no document")
    if len(documents) > 1:
        raise AgeProofError(Reason.malformed, f"the wallet returned {len(documents)} documents; one Proof of Age was asked for")
    return _document(as_map(documents[0], "documents[0]"))


def _document(document: dict[Any, Any]) -> Document:
    where = "documents[0]"
    doctype = get(document, "docType", as_text, where)
    issuer_signed = get(document, "issuerSigned", as_map, where)
    device_signed = get(document, "deviceSigned", as_map, where)
    issuer_auth = parse_sign1(issuer_signed.get("issuerAuth"), f"{where}.issuerSigned.issuerAuth", Reason.issuer_signature)
    items = _issuer_items(as_map(issuer_signed.get("nameSpaces", {}), f"{where}.issuerSigned.nameSpaces"))
    device_namespaces = get(device_signed, "nameSpaces", as_embedded, f"{where}.deviceSigned")
    as_map(decode(device_namespaces, "deviceSigned.nameSpaces"), "deviceSigned.nameSpaces")
    device_auth = get(device_signed, "deviceAuth", as_map, f"{where}.deviceSigned")
    if "deviceSignature" not in device_auth:
        raise AgeProofError(Reason.device_signature, "deviceAuth has no deviceSignature (a deviceMac needs a reader key, which this flow has not)")
    device_signature = parse_sign1(device_auth["deviceSignature"], "deviceAuth.deviceSignature", Reason.device_signature)
    return Document(doctype, items, issuer_auth, _x5chain(issuer_auth), bytes(device_namespaces), device_signature)


def _issuer_items(namespaces: dict[Any, Any]) -> tuple[IssuerItem, ...]:
    items: list[IssuerItem] = []
    for key, encoded in namespaces.items():
        namespace = as_text(key, "an issuerSigned namespace name")
        where = f"issuerSigned.nameSpaces[{namespace!r}]"
        seen: set[str] = set()
        for index, tagged in enumerate(as_list(encoded, where)):
            if len(items) >= MAX_ITEMS:
                raise AgeProofError(Reason.malformed, f"more than {MAX_ITEMS} disclosed elements")
            embedded = as_embedded(tagged, f"{where}[{index}]")
            item = as_map(decode(embedded, f"{where}[{index}]"), f"{where}[{index}]")
            identifier = get(item, "elementIdentifier", as_text, f"{where}[{index}]")
            if identifier in seen:
                raise AgeProofError(Reason.malformed, f"{where} discloses {identifier!r} twice")
            seen.add(identifier)
            get(item, "random", as_bytes, f"{where}[{index}]")
            if "elementValue" not in item:
                raise AgeProofError(Reason.malformed, f"{where}[{index}] has no elementValue")
            digest_id = get(item, "digestID", as_int, f"{where}[{index}]")
            items.append(IssuerItem(namespace, digest_id, identifier, item["elementValue"], embedded.tagged()))
    return tuple(items)


def _x5chain(issuer_auth: Sign1) -> tuple[bytes, ...]:
    chain = issuer_auth.headers.get(X5CHAIN)
    if chain is None:
        raise AgeProofError(Reason.untrusted_issuer, "issuerAuth carries no x5chain: there is no certificate to trust")
    if isinstance(chain, bytes) and not isinstance(chain, Embedded):
        return (chain,)
    return tuple(as_bytes(certificate, f"x5chain[{index}]") for index, certificate in enumerate(as_list(chain, "x5chain")))


def parse_mso(payload: bytes | None) -> SecurityObject:
    """Return the mobile security object in an issuerAuth payload (``#6.24(bstr .cbor MobileSecurityObject)``).

    Raises :class:`AgeProofError` ``malformed`` for any shape problem or an unknown digest algorithm.
    """
    if payload is None:
        raise AgeProofError(Reason.malformed, "issuerAuth has a detached payload; the MSO must be inside it")
    wrapped = as_embedded(decode(payload, "the issuerAuth payload"), "the issuerAuth payload")
    mso = as_map(decode(wrapped, "the MobileSecurityObject"), "MobileSecurityObject")
    where = "MobileSecurityObject"
    algorithm = get(mso, "digestAlgorithm", as_text, where)
    if algorithm not in DIGESTS:
        raise AgeProofError(Reason.malformed, f"MSO digestAlgorithm {algorithm!r} is not one of {', '.join(DIGESTS)}")
    digests: dict[str, dict[int, bytes]] = {}
    for namespace, table in get(mso, "valueDigests", as_map, where).items():
        name = as_text(namespace, "a valueDigests namespace")
        digests[name] = {as_int(key, f"valueDigests[{name!r}] key"): as_bytes(value, f"valueDigests[{name!r}]")
                         for key, value in as_map(table, f"valueDigests[{name!r}]").items()}  # fmt: skip
    device_key = cose_public_key(get(get(mso, "deviceKeyInfo", as_map, where), "deviceKey", as_map, "deviceKeyInfo"), "deviceKey")
    validity = get(mso, "validityInfo", as_map, where)
    times = {name: _tdate(validity.get(name), f"validityInfo.{name}") for name in ("signed", "validFrom", "validUntil")}
    return SecurityObject(get(mso, "docType", as_text, where), DIGESTS[algorithm], digests, device_key,
                          times["signed"], times["validFrom"], times["validUntil"])  # fmt: skip


def _tdate(value: Any, where: str) -> _dt.datetime:
    if not isinstance(value, DateText):
        raise AgeProofError(Reason.malformed, f"{where} must be a tag 0 date-time")
    try:
        moment = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise AgeProofError(Reason.malformed, f"{where} {str(value)[:40]!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise AgeProofError(Reason.malformed, f"{where} has no time zone")
    return moment.astimezone(_dt.UTC)
