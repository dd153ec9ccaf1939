"""The XMP packet written into accepted files: licence, licensor, usage terms, model release, data mining, receipt.

Properties follow IPTC Photo Metadata / PLUS (``plus:Licensor``, ``plus:ModelReleaseStatus``,
``plus:DataMining``, ``plus:OtherConstraints``) and XMP Rights Management (``xmpRights:Marked``,
``UsageTerms``, ``WebStatement``), with ``dc:rights``; what has no standard property (licence id and
version, submission and receipt, the upload's hash) is in ugc_guard's own namespace. The packet is
built with ElementTree, so every value is escaped; characters XML cannot carry (NUL and other C0
controls, lone surrogates) are removed and each value is cut at ``MAX_VALUE`` characters.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MODEL_RELEASE", "NAMESPACES", "ImageSigner", "RightsFacts", "xmp_packet"]

NAMESPACES = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "ugcguard": "tag:ugc-guard,2026:xmp/1.0/",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MODEL_RELEASE = {
    "none": "http://ns.useplus.org/ldf/vocab/MR-NON",
    "unlimited": "http://ns.useplus.org/ldf/vocab/MR-UMR",
    "limited": "http://ns.useplus.org/ldf/vocab/MR-LMR",
}
MAX_VALUE = 4000
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
PACKET_START = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
PACKET_END = '\n<?xpacket end="r"?>'

for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True, slots=True)
class RightsFacts:
    """What the packet states about one delivered file."""

    licence_id: str
    licence_version: str
    licensor: str
    usage_terms: str
    model_release: str
    """A PLUS ``MR-…`` URI (see :data:`MODEL_RELEASE`)."""
    data_mining: str
    """A PLUS ``DMI-…`` URI."""
    received_sha256: str
    submission_id: str
    licensor_email: str | None = None
    licensor_url: str | None = None
    web_statement: str | None = None
    other_constraints: str | None = None
    licence_text_sha256: str | None = None
    receipt_entry: str | None = None
    receipt_hash: str | None = None
    campaign: str | None = None


ImageSigner = Callable[[bytes, str, RightsFacts], bytes]
"""Signs content credentials into an image (bytes, media type, facts) -> signed bytes; see ``c2pa_signing``."""


def _clean(value: str) -> str:
    text = _NOT_XML.sub("", value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _tag(prefix: str, name: str) -> str:
    return f"{{{NAMESPACES[prefix]}}}{name}"


def _text(parent: ET.Element, prefix: str, name: str, value: str | None) -> None:
    if value is not None:
        ET.SubElement(parent, _tag(prefix, name)).text = _clean(value)


def _alt(parent: ET.Element, prefix: str, name: str, value: str) -> None:
    alternatives = ET.SubElement(ET.SubElement(parent, _tag(prefix, name)), _tag("rdf", "Alt"))
    item = ET.SubElement(alternatives, _tag("rdf", "li"), {XML_LANG: "x-default"})
    item.text = _clean(value)


def xmp_packet(facts: RightsFacts) -> bytes:
    """Return the UTF-8 XMP packet (``<?xpacket …?>`` wrapper included, read-only) stating ``facts``."""
    root = ET.Element(_tag("x", "xmpmeta"))
    rdf = ET.SubElement(root, _tag("rdf", "RDF"))
    about = ET.SubElement(rdf, _tag("rdf", "Description"), {_tag("rdf", "about"): ""})
    _text(about, "xmpRights", "Marked", "True")
    _alt(about, "xmpRights", "UsageTerms", facts.usage_terms)
    _text(about, "xmpRights", "WebStatement", facts.web_statement)
    _alt(about, "dc", "rights", f"Licensed to {facts.licensor} under {facts.licence_id} version {facts.licence_version}")
    licensors = ET.SubElement(ET.SubElement(about, _tag("plus", "Licensor")), _tag("rdf", "Seq"))
    licensor = ET.SubElement(licensors, _tag("rdf", "li"), {_tag("rdf", "parseType"): "Resource"})
    _text(licensor, "plus", "LicensorName", facts.licensor)
    _text(licensor, "plus", "LicensorEmail", facts.licensor_email)
    _text(licensor, "plus", "LicensorURL", facts.licensor_url)
    _text(about, "plus", "ModelReleaseStatus", facts.model_release)
    _text(about, "plus", "DataMining", facts.data_mining)
    _text(about, "plus", "OtherConstraints", facts.other_constraints)
    _text(about, "ugcguard", "LicenceId", facts.licence_id)
    _text(about, "ugcguard", "LicenceVersion", facts.licence_version)
    _text(about, "ugcguard", "LicenceTextSHA256", facts.licence_text_sha256)
    _text(about, "ugcguard", "Campaign", facts.campaign)
    _text(about, "ugcguard", "SubmissionId", facts.submission_id)
    _text(about, "ugcguard", "ReceiptEntry", facts.receipt_entry)
    _text(about, "ugcguard", "ReceiptHash", facts.receipt_hash)
    _text(about, "ugcguard", "ReceivedSHA256", facts.received_sha256)
    return (PACKET_START + ET.tostring(root, encoding="unicode") + PACKET_END).encode("utf-8")
