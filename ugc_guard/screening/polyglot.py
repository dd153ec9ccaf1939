"""Second signatures inside a file: the marks of a polyglot, and active content hidden in an image.

A file that is a valid image and also a ZIP archive, a PDF or an HTML page can be served back as
the other thing. Images are scanned whole (they are small); audio and video at head and tail.
An image's metadata (EXIF, XMP, comments, PNG text, GIF extensions) is held to a stricter scan
than its pixels: text there is meant to be read, by people and by programs, so any markup in it
is refused. Bytes after the image's end are refused when the app receives the original bytes.
"""

from __future__ import annotations

import re

from ..problems import Problem
from .layout import image_layout
from .multiscan import MultiScan
from .spool import RangeReader

__all__ = ["check_image_content", "check_polyglot", "find_active_content", "has_markup", "whole_file_active"]

ZIP_END = b"PK\x05\x06"
ZIP_TAIL = 22 + 65535  # the end-of-central-directory record plus its longest comment
MARKUP = re.compile(
    rb"<(?:script|html|\?php|svg|iframe|object|embed|body|!doctype\s+html|meta\s+http-equiv)[\s>/]|javascript:",
    re.IGNORECASE,
)
_MARKUP_LOWER = re.compile(MARKUP.pattern)  # the same pattern, for data already lowercased
_TAG_STARTS = (b"script", b"html", b"?php", b"svg", b"iframe", b"object", b"embed", b"body", b"!doctype", b"meta")
"""What follows the ``<`` of every tag MARKUP matches (lowercased)."""
SCAN_CHUNK = 1024 * 1024
EDGE = 64 * 1024
_OVERLAP = 32

# Long enough never to occur by chance in compressed pixel data, so every byte of an image is
# scanned for them (lowercased). Event handlers count only after a separator an HTML parser
# accepts before an attribute name.
_DATA_URL = re.compile(rb"data:(?:text/html|application/xhtml|image/svg\+xml)")
_XML_ACTIVE = re.compile(rb"<(?:!entity|\?xml-stylesheet|xsl:(?:stylesheet|transform))")
_ACTIVE_STARTS = (*_TAG_STARTS, b"!entity", b"?xml-stylesheet", b"xsl:")
# A "<" followed by one of the starts: one C-level search (sre skips to each "<"), 4x faster than
# splitting at every "<" and testing each piece in Python.
_TAG_START = re.compile(b"<(?:" + b"|".join(re.escape(start) for start in _TAG_STARTS) + b")")
_ACTIVE_START = re.compile(b"<(?:" + b"|".join(re.escape(start) for start in _ACTIVE_STARTS) + b")")
_NAMED_HANDLER = re.compile(
    rb"on(?:error|load|begin|end|toggle|focus|focusin|blur|click|dblclick|auxclick|contextmenu|input|change|submit|reset|"
    rb"mouse[a-z]+|pointer[a-z]+|key[a-z]+|touch[a-z]+|drag[a-z]*|drop|animation[a-z]+|transition[a-z]+|"
    rb"beforeunload|unload|pageshow|pagehide|hashchange|popstate|message|scroll|scrollend|wheel|resize|copy|cut|paste|"
    rb"play|playing|pause|ended|canplay[a-z]*|loadstart|loadeddata|progress|search|select|invalid|show|beforetoggle)\s*="
)
# In metadata: any element that runs script or loads something, PHP and other processing
# instructions (``<?xpacket`` and ``<?xml `` of XMP excepted), DTDs, and any on…= attribute.
# PHP's short tags (``<?=``, ``<? ``) count with printable text up to ``?>`` or ``__halt_compiler``
# (PHP compiles the whole file first: code amid binary bytes runs only when so closed), so binary
# metadata (ICC profiles, thumbnails, maker notes) does not match by chance.
_METADATA_TAG = re.compile(
    rb"<(?:\?(?:php|[=\s][\t\n\r\x20-\x7e]{1,256}?(?:\?>|__halt_compiler)|xml-stylesheet)|!(?:doctype|entity|attlist|element)|xsl:"
    rb"|(?:script|html|head|body|iframe|frame|frameset|object|embed|applet|svg|math|img|image|video|audio|source|track"
    rb"|picture|style|link|meta|base|form|input|button|textarea|select|details|dialog|marquee|template|noscript|isindex"
    rb"|keygen|portal|xml|xmp|plaintext|listing|animate|set|handler|listener|foreignobject|use)[\s/>]"
    rb"|a\s[^>]{0,256}?href)"
)
_ANY_HANDLER = re.compile(rb"on[a-z]{3,}\s*=")
_HANDLER_AFTER_SEPARATOR = rb"(?:^|[ \t\n\r\f/\"'])"  # what ``_handler`` checks, as an expression
_KINDS = (
    (rb"javascript:|vbscript:", "a script URL"),
    (rb"__halt_compiler", "a PHP instruction"),
    (_DATA_URL.pattern, "an HTML or SVG data: URL"),
    (_MARKUP_LOWER.pattern, "HTML or script markup"),
    (_XML_ACTIVE.pattern, "an XML entity declaration or XSLT"),
    (_HANDLER_AFTER_SEPARATOR + _NAMED_HANDLER.pattern, "an event handler attribute"),
)
"""What :func:`_active` searches for, in its order, and how each is named in the refusal."""
_WHOLE_FILE = MultiScan([expression for expression, _ in _KINDS])
_ATTRIBUTE_SEPARATORS = frozenset(b" \t\n\r\f/\"'")
_ENTITIES = ((b"&lt;", b"<"), (b"&#60;", b"<"), (b"&#x3c;", b"<"), (b"&quot;", b'"'), (b"&#34;", b'"'), (b"&apos;", b"'"),
             (b"&#39;", b"'"), (b"&colon;", b":"), (b"&#58;", b":"), (b"&#x3a;", b":"), (b"&tab;", b""), (b"&#9;", b""),
             (b"&#x09;", b""), (b"&newline;", b""), (b"&#10;", b""), (b"&#x0a;", b""), (b"&gt;", b">"), (b"&amp;", b"&"))  # fmt: skip


def check_polyglot(reader: RangeReader, whole: bool) -> None:
    """Raise 422 ``content-rejected`` when the file carries a ZIP, PDF or HTML/script signature.

    ``whole`` scans every byte for markup; otherwise the first and last 64 KiB (blocking: run in a
    worker thread).
    """
    _signatures(reader)
    size = reader.length
    spans = [(0, size)] if whole else [(0, min(EDGE, size)), (max(0, size - EDGE), size)]
    for start, end in spans:
        position = start
        while position < end:
            data = reader.pread(min(SCAN_CHUNK + _OVERLAP, end - position), position)
            if has_markup(data):
                raise Problem("content-rejected", "the file contains HTML or script markup")
            position += SCAN_CHUNK


def check_image_content(reader: RangeReader, media_type: str, *, original: bool) -> None:
    """Raise 422 ``content-rejected`` when an image is a polyglot or hides active content.

    Every byte: ZIP/PDF signatures, HTML/script markup, ``javascript:``/``data:text/html`` URLs,
    XML entities, XSLT and event handlers. The metadata segments: any markup (:func:`find_active_content`).
    With ``original`` (the app receives the bytes as uploaded) also bytes after the image's end
    marker, and a container that cannot be walked to its end, are refused. Blocking: run in a worker thread.
    """
    _signatures(reader)
    data = reader.pread(reader.length, 0)
    found = whole_file_active(data)
    if found:
        raise Problem("content-rejected", f"the file contains {found}")
    layout = image_layout(data, media_type)
    for segment in layout.metadata:
        found = find_active_content(segment)
        if found:
            raise Problem("content-rejected", f"the image's metadata contains {found}; send the image without it")
    if not original:
        return  # the app gets the re-encoded image: what follows the image's end is cut off
    if layout.end is None:
        why = layout.irregular or "the image's end cannot be found"
        raise Problem("content-rejected", f"{why}, so it cannot be checked for hidden content")
    trailing = data[layout.end :]
    if trailing.strip(b"\0"):
        raise Problem(
            "content-rejected",
            f"the image has {len(trailing)} bytes after its end (an appended file, or a motion photo's video); send the image alone",
        )


def _signatures(reader: RangeReader) -> None:
    size = reader.length
    if b"%PDF-" in reader.pread(1024, 0):
        raise Problem("content-rejected", "the file also carries a PDF signature")
    tail_start = max(0, size - ZIP_TAIL)
    if ZIP_END in reader.pread(size - tail_start, tail_start):
        raise Problem("content-rejected", "the file ends with a ZIP archive directory")


def has_markup(data: bytes) -> bool:
    """Return ``MARKUP.search(data) is not None``, about ten times faster.

    The regular expression engine holds the GIL for its whole search: about 20 ms per MiB of image
    data (which has a ``<`` every few hundred bytes), a stall of the event loop. Here the data is
    lowercased once (ASCII only, as ``re.IGNORECASE`` does for bytes) and searched for a ``<`` that
    starts like one of the tags; only then does the pattern itself run.
    """
    lowered = data.lower()
    if b"javascript:" in lowered:
        return True
    if _TAG_START.search(lowered) is None:
        return False
    return _MARKUP_LOWER.search(lowered) is not None


def whole_file_active(data: bytes) -> str | None:
    """What active content of the long, unmistakable kinds (:data:`_KINDS`) ``data`` holds anywhere, or None.

    One Hyperscan pass over the whole file (``multiscan``); where Hyperscan cannot run, :func:`_active`
    on lowercased 1 MiB pieces (overlapping by 32 bytes), which finds the same except a match longer
    than the overlap across a piece's edge (and counts a handler at a piece's start as after a separator).
    """
    if _WHOLE_FILE.available:
        index = _WHOLE_FILE.first(data)
        return None if index is None else _KINDS[index][1]
    for start in range(0, len(data), SCAN_CHUNK):
        found = _active(data[start : start + SCAN_CHUNK + _OVERLAP].lower())
        if found:
            return found
    return None


def _active(lowered: bytes) -> str | None:
    """What active content of the long, unmistakable kinds ``lowered`` holds (a few C-level searches)."""
    if _script_url(lowered):
        return _KINDS[0][1]
    if b"__halt_compiler" in lowered:
        return _KINDS[1][1]
    if _DATA_URL.search(lowered):
        return _KINDS[2][1]
    if _ACTIVE_START.search(lowered) is not None:
        if _MARKUP_LOWER.search(lowered):
            return _KINDS[3][1]
        if _XML_ACTIVE.search(lowered):
            return _KINDS[4][1]
    return _KINDS[5][1] if _handler(_NAMED_HANDLER, lowered) else None


def _script_url(lowered: bytes) -> bool:
    """Whether ``lowered`` holds ``javascript:`` or ``vbscript:`` (one search for their common tail)."""
    position = lowered.find(b"script:")
    while position >= 0:
        if lowered.endswith(b"java", 0, position) or lowered.endswith(b"vb", 0, position):
            return True
        position = lowered.find(b"script:", position + 1)
    return False


def _handler(pattern: re.Pattern[bytes], lowered: bytes) -> bool:
    """Whether ``pattern`` (an ``on…=`` attribute) matches after a separator an HTML parser accepts.

    The pattern's own search finds each candidate (it starts with the literal ``on``: a C-level
    scan), and only those are tested for the separator: about three times faster than stopping at
    every ``on`` in Python.
    """
    separators = _ATTRIBUTE_SEPARATORS
    found = pattern.search(lowered)
    while found is not None:
        position = found.start()
        if position == 0 or lowered[position - 1] in separators:
            return True
        found = pattern.search(lowered, position + 1)
    return False


def find_active_content(segment: bytes) -> str | None:
    """Return what active content a metadata segment holds (a short description), or None.

    Looks at the bytes lowercased, with XML/HTML character references for ``<``, quotes and ``>``
    resolved (XMP stores text escaped), and with NUL bytes removed (UTF-16 text, as in EXIF
    ``XPComment`` and ICC ``mluc`` tags).
    """
    lowered = segment.lower()
    variants = [lowered]
    if b"&" in lowered:
        unescaped = lowered
        for entity, character in _ENTITIES:
            unescaped = unescaped.replace(entity, character)
        variants.append(unescaped)
    if b"\0" in lowered:
        variants.append(lowered.replace(b"\0", b""))
    for variant in variants:
        found = _active(variant)
        if found:
            return found
        if _METADATA_TAG.search(variant):
            return "HTML, XML or PHP markup"
        if _handler(_ANY_HANDLER, variant):
            return "an event handler attribute"
    return None
