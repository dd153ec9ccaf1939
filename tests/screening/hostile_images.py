"""Real images made with Pillow, with what a photo really carries (EXIF, XMP, ICC, comments, PNG text,
GIF extensions, MPF) and with active content hidden in those places or after the image's end."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from tests.screening import samples

XMP_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about=""\n'
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
    '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"\n'
    '    xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"\n'
    '    xmlns:GCamera="http://ns.google.com/photos/1.0/camera/" xmlns:Container="http://ns.google.com/photos/1.0/container/"\n'
    '    xmlns:Item="http://ns.google.com/photos/1.0/container/item/" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"\n'
    '   xmp:CreatorTool="Adobe Photoshop Lightroom Classic 13.2 (Windows)" xmp:CreateDate="2024-05-17T14:03:22+02:00"\n'
    '   photoshop:DateCreated="2024-05-17T14:03:22.41+02:00" crs:ConvertToGrayscale="False" crs:Exposure2012="+0.35"\n'
    '   GCamera:MotionPhoto="0" plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING">\n'
    '   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Sunset on the beach &amp; friends</rdf:li></rdf:Alt></dc:title>\n'
    '   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Taken on holiday; the view from the hotel &lt;3 (online = yes)'
    "</rdf:li></rdf:Alt></dc:description>\n"
    '   <xmpMM:History><rdf:Seq><rdf:li stEvt:action="saved" stEvt:changed="/metadata"/></rdf:Seq></xmpMM:History>\n'
    '   <Container:Directory><rdf:Seq><rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" '
    'Item:Semantic="Primary" Item:Length="0"/></rdf:li></rdf:Seq></Container:Directory>\n'
    "  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n" + " " * 200 + '\n<?xpacket end="w"?>'
).encode("utf-8")
"""An XMP packet as Lightroom and Android cameras write it (processing instructions, escaped text)."""

PAYLOADS = {
    "img onerror": b"<img src=x onerror=alert(1)>",
    "svg onload": b'"><svg/onload=alert(document.domain)>',
    "php short echo": b"<?= `$_GET[0]` ?>",
    "php tag": b"<?php system($_GET['c']); ?>",
    "script": b"<script>alert(1)</script>",
    "javascript url": b"javascript:alert(1)",
    "html data url": b"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "xml entity": b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>',
    "xslt": b'<?xml-stylesheet type="text/xsl" href="https://evil.example/x.xsl"?>',
    "details ontoggle": b"<details open ontoggle=alert(1)>",
    "a href entity": b'<a href="javascript&colon;alert(1)">win a prize</a>',
    "bare handler": b'x" onmouseover="alert(1)',
}
"""Active content as an attacker hides it in an image's text."""


def icc_profile() -> bytes:
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def jpeg(*, comment: bytes | None = None, description: str | None = None, xp_comment: str | None = None,
         xmp: bytes | None = XMP_PACKET, icc: bool = True, **save: Any) -> bytes:  # fmt: skip
    """A photo-like JPEG: GPS EXIF with the given description, XMP, ICC profile and a comment."""
    exif = samples.gps_exif()
    exif[0x010F], exif[0x0110], exif[0x0131] = "Google", "Pixel 8", "HDR+ 1.0.641377693zd"
    if description is not None:
        exif[0x010E] = description
    if xp_comment is not None:
        exif[0x9C9C] = xp_comment.encode("utf-16-le") + b"\0\0"
    options: dict[str, Any] = {"exif": exif, "quality": 88, **save}
    if comment is not None:
        options["comment"] = comment
    if xmp is not None:
        options["xmp"] = xmp
    if icc:
        options["icc_profile"] = icc_profile()
    out = io.BytesIO()
    samples.picture((96, 64)).save(out, "JPEG", **options)
    return out.getvalue()


def jpeg_with_segments(*segments: tuple[int, bytes]) -> bytes:
    """A JPEG with extra (marker, payload) segments right after SOI."""
    data = samples.jpeg()
    extra = b"".join(struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload for marker, payload in segments)
    return data[:2] + extra + data[2:]


def extended_xmp(*pieces: bytes) -> bytes:
    """A JPEG whose extended XMP is split over APP1 segments (a reader joins the pieces)."""
    whole = b"".join(pieces)
    segments, offset = [], 0
    for piece in pieces:
        header = b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 32 + struct.pack(">II", len(whole), offset)
        segments.append((0xE1, header + piece))
        offset += len(piece)
    return jpeg_with_segments(*segments)


def mpo() -> bytes:
    """A JPEG with a second image after the first's EOI, described by MPF (as Ultra HDR gain maps are)."""
    out = io.BytesIO()
    first, second = samples.picture((64, 48)), samples.picture((32, 24))
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def png(*chunks: tuple[str, str, str]) -> bytes:
    """A PNG with an ICC profile and text chunks: (kind ``tEXt``/``zTXt``/``iTXt``/``iTXt-z``, key, value)."""
    info = PngInfo()
    for kind, key, value in chunks:
        if kind == "tEXt":
            info.add_text(key, value)
        elif kind == "zTXt":
            info.add_text(key, value, zip=True)
        else:
            info.add_itxt(key, value, lang="en", tkey=key, zip=kind == "iTXt-z")
    out = io.BytesIO()
    samples.picture((64, 48)).save(out, "PNG", pnginfo=info, icc_profile=icc_profile())
    return out.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """A PNG with one more chunk before IEND."""
    data = samples.png()
    chunk = struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    return data[:-12] + chunk + data[-12:]


def gif(comment: bytes = b"made by a test", xmp: bytes | None = None) -> bytes:
    """An animated GIF with a comment, and XMP in its application extension the way the XMP spec stores it."""
    frames = [Image.new("RGB", (32, 32), color=(index * 40, 90, 200)) for index in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0, comment=comment)
    data = out.getvalue()
    if xmp is None:
        return data
    magic_trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
    return data[:-1] + b"\x21\xff\x0bXMP DataXMP" + xmp + magic_trailer + data[-1:]


def webp(*, exif: bytes | None = None, xmp: bytes | None = XMP_PACKET, frames: int = 1) -> bytes:
    images = [Image.new("RGB", (32, 32), color=(index * 50, 10, 10)) for index in range(frames)]
    options: dict[str, Any] = {"icc_profile": icc_profile(), "exif": exif or samples.gps_exif().tobytes()}
    if xmp is not None:
        options["xmp"] = xmp
    out = io.BytesIO()
    images[0].save(out, "WEBP", save_all=frames > 1, append_images=images[1:], duration=40, **options)
    return out.getvalue()


def motion_photo() -> bytes:
    """A JPEG followed by an MP4, as Android cameras store a motion photo."""
    return jpeg() + samples.mp4()
