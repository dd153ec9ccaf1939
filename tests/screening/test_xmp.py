"""The XMP packet: well-formed whatever the policy says, read back by an XML parser and by Pillow from each format."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
from dataclasses import replace

import av
import pytest
from PIL import Image

from tests.screening import avmedia, samples
from ugc_guard.screening.embed import XMP_UUID, model_release
from ugc_guard.screening.grants import Grants
from ugc_guard.screening.jpeg_segments import insert_jpeg_xmp, strip_jpeg
from ugc_guard.screening.png_chunks import insert_png_xmp, insert_webp_xmp, strip_png, strip_webp
from ugc_guard.screening.xmp import MAX_VALUE, NAMESPACES, RightsFacts, xmp_packet

NS = {prefix: uri for prefix, uri in NAMESPACES.items()}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FACTS = RightsFacts(
    licence_id="LicenseRef-onscreen-ugc",
    licence_version="1.0",
    licensor='Streamly <Media> & "Sons" B.V.',
    usage_terms="Use by <script>alert(1)</script> & co only\x00 — ‘quoted’",
    model_release="http://ns.useplus.org/ldf/vocab/MR-LMR",
    data_mining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED",
    received_sha256="ab" * 32,
    submission_id="17",
    licensor_email="privacy@streamly.example",
    web_statement="https://onscreen.example/ugc-guard/terms?a=1&b=2",
    receipt_entry="17",
    receipt_hash="sha256:" + "cd" * 32,
    campaign="onscreen",
)


def parse(packet: bytes) -> ET.Element:
    text = packet.decode("utf-8")
    assert text.startswith('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>') and text.endswith('<?xpacket end="r"?>')
    start, end = text.index("<x:xmpmeta"), text.rindex("</x:xmpmeta>") + len("</x:xmpmeta>")
    return ET.fromstring(text[start:end])


def description(packet: bytes) -> ET.Element:
    found = parse(packet).find("rdf:RDF/rdf:Description", NS)
    assert found is not None
    return found


def value(about: ET.Element, path: str) -> str | None:
    found = about.find(path, NS)
    return None if found is None else found.text


def test_every_property_reads_back_exactly_markup_ampersands_and_quotes_included() -> None:
    about = description(xmp_packet(FACTS))
    assert value(about, "plus:DataMining") == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"
    assert value(about, "plus:ModelReleaseStatus") == "http://ns.useplus.org/ldf/vocab/MR-LMR"
    assert value(about, "ugcguard:LicenceId") == "LicenseRef-onscreen-ugc" and value(about, "ugcguard:LicenceVersion") == "1.0"
    assert value(about, "plus:Licensor/rdf:Seq/rdf:li/plus:LicensorName") == 'Streamly <Media> & "Sons" B.V.'
    assert value(about, "plus:Licensor/rdf:Seq/rdf:li/plus:LicensorEmail") == "privacy@streamly.example"
    usage = about.find("xmpRights:UsageTerms/rdf:Alt/rdf:li", NS)
    assert usage is not None and usage.get(XML_LANG) == "x-default"
    assert usage.text == "Use by <script>alert(1)</script> & co only — ‘quoted’"  # NUL removed, the rest verbatim
    assert value(about, "xmpRights:WebStatement") == "https://onscreen.example/ugc-guard/terms?a=1&b=2"
    assert value(about, "xmpRights:Marked") == "True"
    assert value(about, "dc:rights/rdf:Alt/rdf:li") == 'Licensed to Streamly <Media> & "Sons" B.V. under LicenseRef-onscreen-ugc version 1.0'
    assert (value(about, "ugcguard:SubmissionId"), value(about, "ugcguard:ReceiptHash")) == ("17", "sha256:" + "cd" * 32)
    assert value(about, "ugcguard:ReceivedSHA256") == "ab" * 32 and value(about, "ugcguard:Campaign") == "onscreen"
    assert about.find("plus:OtherConstraints", NS) is None  # unset properties are left out
    raw = xmp_packet(FACTS)
    assert b"<script>" not in raw and b"&lt;script&gt;" in raw and b"\x00" not in raw


def test_hostile_policy_strings_never_break_the_packet() -> None:
    hostile = "".join(chr(code) for code in range(0, 0x80)) + "\ud800\ufffe]]><!--" + "x" * 10_000
    packet = xmp_packet(replace(FACTS, usage_terms=hostile, licensor=hostile, other_constraints=hostile))
    about = description(packet)
    text = value(about, "plus:OtherConstraints") or ""
    assert len(text) == MAX_VALUE and text.endswith("…") and "\x00" not in text and "\ud800" not in text
    assert text.startswith("\t\n\n !\"#$%&'()*+,-./0123456789:;<=>?@")  # an XML parser reads CR as LF


@pytest.mark.parametrize(
    ("self_consent", "others", "withdrawable", "status"),
    [
        (False, "none", True, "MR-NON"),
        (False, None, False, "MR-NON"),
        (True, "none", True, "MR-LMR"),
        (True, "all-consented", False, "MR-LMR"),
        (True, None, False, "MR-LMR"),
        (True, "none", False, "MR-UMR"),
    ],
)
def test_model_release_status_follows_the_portrait_grant(self_consent: bool, others: str | None, withdrawable: bool, status: str) -> None:
    grants = Grants(licence=True, portrait_self=self_consent, portrait_others=others)  # type: ignore[arg-type]
    assert model_release(grants, withdrawable) == "http://ns.useplus.org/ldf/vocab/" + status


def test_jpeg_png_and_webp_carry_the_packet_where_readers_look_for_it() -> None:
    packet = xmp_packet(FACTS)
    jpeg = insert_jpeg_xmp(strip_jpeg(samples.jpeg(exif=True)).data, packet)
    png = insert_png_xmp(strip_png(samples.png()).data, packet)
    simple_webp = samples.webp()
    assert simple_webp[12:16] == b"VP8 "
    webp = insert_webp_xmp(strip_webp(simple_webp).data, packet, 32, 32)
    for data, key in ((jpeg, "xmp"), (png, "XML:com.adobe.xmp"), (webp, "xmp")):
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # still a valid image
            found = image.info[key]
            assert (found.encode() if isinstance(found, str) else found) == packet
            assert (
                value(
                    description(packet),
                    "plus:DataMining",
                )
                == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"
            )
    assert webp[12:16] == b"VP8X" and webp[20] & 0x04 and struct.unpack("<I", webp[4:8])[0] == len(webp) - 8
    assert int.from_bytes(webp[24:27], "little") + 1 == 32 and int.from_bytes(webp[27:30], "little") + 1 == 32
    with Image.open(io.BytesIO(jpeg)) as image:
        assert dict(image.getexif()) == {0x0112: 6}  # the orientation segment is still read


def test_a_uuid_box_at_the_end_of_an_mp4_is_found_and_the_clip_still_plays() -> None:
    clip = avmedia.clip("mp4")
    packet = xmp_packet(FACTS)
    with_xmp = clip + struct.pack(">I", 24 + len(packet)) + b"uuid" + XMP_UUID + packet
    kind, offset, size = list(avmedia.boxes(with_xmp))[-1]
    assert kind == b"uuid" and with_xmp[offset + 8 : offset + 24] == bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
    assert value(description(with_xmp[offset + 24 : offset + size]), "ugcguard:LicenceId") == "LicenseRef-onscreen-ugc"
    assert avmedia.packets(with_xmp) == avmedia.packets(clip)
    with av.open(io.BytesIO(with_xmp)) as container:
        assert container.duration == av.open(io.BytesIO(clip)).duration
