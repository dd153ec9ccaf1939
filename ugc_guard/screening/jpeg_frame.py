"""A JPEG's frame checked as libjpeg checks it, without decoding a block: the structure proof of the lossless path.

libjpeg (and so Pillow) stops with an error on a broken *structure*: a frame or scan header that does
not add up, a Huffman table that is not a prefix code, a table a scan uses that was never defined,
progressive parameters out of range, data that ends before the end-of-image marker. Damage *inside*
the entropy-coded data is only a warning to it: the block is filled in and decoding goes on, and
Pillow accepts the image (200 flipped bytes in a 2 MB photo, even half a photo followed by EOI,
decode "successfully"). So decoding every block proves no more than this walk over the headers,
which :func:`strip_jpeg` has already cut out of the file, at a small fraction of the CPU.

:func:`check_frame` takes those headers (``StrippedImage.frame``, in file order) and either raises
422 ``content-rejected`` for what libjpeg would refuse, returns True when the frame is one this
check knows in full (baseline, extended sequential or progressive, Huffman-coded, 8-bit, 1, 3 or 4
components), or returns False for any other shape (arithmetic coding, lossless, hierarchical,
12-bit…): the caller then decodes the image as before and lets libjpeg decide.
"""

from __future__ import annotations

from collections.abc import Sequence

from .jpeg_segments import reject_jpeg

__all__ = ["MAX_SCANS", "check_frame"]

MAX_SCANS = 100
"""Scans per image at most: a progressive JPEG of thousands of tiny scans is a CPU bomb for every decoder
(an ordinary one has about ten)."""

SOF_BASELINE, SOF_EXTENDED, SOF_PROGRESSIVE = 0xC0, 0xC1, 0xC2
DHT, DQT, DRI, SOS = 0xC4, 0xDB, 0xDD, 0xDA
_KNOWN_FRAMES = (SOF_BASELINE, SOF_EXTENDED, SOF_PROGRESSIVE)
_MAX_BLOCKS_IN_MCU = 10


def check_frame(segments: Sequence[tuple[int, bytes]]) -> bool:
    """Check the frame of one JPEG from its header segments (marker, payload without the length field).

    Raises 422 ``content-rejected`` for a structure libjpeg refuses; returns True when checked in
    full, False when the frame is of a kind this check leaves to a decode (see the module docstring).
    """
    frame: int | None = None
    components: dict[int, tuple[int, int, int]] = {}  # id -> (h, v, quantisation table)
    quant: set[int] = set()
    huffman: dict[tuple[int, int], tuple[bool, int]] = {}  # (class 0 DC / 1 AC, id) -> (a prefix code, largest symbol)
    scans = 0
    for marker, payload in segments:
        if marker == DQT:
            quant |= _quant_tables(payload)
        elif marker == DHT:
            huffman.update(_huffman_tables(payload))  # a table defined again replaces the earlier one
        elif marker == DRI:
            if len(payload) != 2:
                raise reject_jpeg("has a restart interval segment of the wrong length")
        elif 0xC0 <= marker <= 0xCF and marker not in (DHT, 0xC8, 0xCC):
            if frame is not None:
                raise reject_jpeg("has more than one frame header")
            if marker not in _KNOWN_FRAMES:
                return False
            frame = marker
            known = _frame_components(payload)
            if known is None:
                return False
            components = known
        elif marker == SOS:
            if frame is None:
                raise reject_jpeg("has a scan before its frame header")
            scans += 1
            if scans > MAX_SCANS:
                raise reject_jpeg(f"has more than {MAX_SCANS} scans")
            if not _scan(payload, frame, components, quant, huffman):
                return False
        elif marker in (0xC8, 0xCC, 0xDC, 0xDE, 0xDF):  # JPG, DAC, DNL, DHP, EXP: not a plain frame
            return False
    if frame is None or scans == 0:
        raise reject_jpeg("has no frame header or no scan")
    return True


def _quant_tables(payload: bytes) -> set[int]:
    found, position = set(), 0
    while position < len(payload):
        precision, table = payload[position] >> 4, payload[position] & 0x0F
        if precision > 1 or table > 3:
            raise reject_jpeg("has a quantisation table with a bad precision or number")
        position += 1 + 64 * (precision + 1)
        if position > len(payload):
            raise reject_jpeg("has a quantisation table segment of the wrong length")
        found.add(table)
    return found


def _huffman_tables(payload: bytes) -> dict[tuple[int, int], tuple[bool, int]]:
    """The tables of a DHT segment. Its lengths are checked here (libjpeg reads them with the marker);
    whether a table is a prefix code and its DC symbols only when a scan uses it (as libjpeg derives it)."""
    found, position = {}, 0
    while position < len(payload):
        if position + 17 > len(payload):
            raise reject_jpeg("has a Huffman table segment of the wrong length")
        kind, table = payload[position] >> 4, payload[position] & 0x0F
        counts = payload[position + 1 : position + 17]
        total = sum(counts)
        symbols = payload[position + 17 : position + 17 + total]
        if total > 256 or len(symbols) != total:
            raise reject_jpeg("has a Huffman table segment of the wrong length")
        if kind > 1 or table > 3:
            raise reject_jpeg("has a Huffman table with a bad class or number")
        position += 17 + total
        found[(kind, table)] = (_prefix_code(counts), max(symbols, default=0))
    return found


def _prefix_code(counts: bytes) -> bool:
    """Whether code lengths ``counts`` (of lengths 1–16) give canonical codes none of which is all ones (libjpeg's test)."""
    code = 0
    for length, count in enumerate(counts, start=1):
        code += count
        if code >= 1 << length:
            return False
        code <<= 1
    return True


def _frame_components(payload: bytes) -> dict[int, tuple[int, int, int]] | None:
    if len(payload) < 6:
        raise reject_jpeg("has a frame header of the wrong length")
    precision, count = payload[0], payload[5]
    if len(payload) != 6 + 3 * count:
        raise reject_jpeg("has a frame header of the wrong length")
    if precision != 8 or count not in (1, 3, 4):
        return None
    components: dict[int, tuple[int, int, int]] = {}
    for index in range(count):
        ident, sampling, table = payload[6 + 3 * index : 9 + 3 * index]
        h, v = sampling >> 4, sampling & 0x0F
        if not (1 <= h <= 4 and 1 <= v <= 4) or table > 3:
            raise reject_jpeg("has a frame header with bad sampling factors or table numbers")
        if ident in components:
            return None  # duplicate component ids: left to libjpeg
        components[ident] = (h, v, table)
    return components


def _scan(
    payload: bytes, frame: int, components: dict[int, tuple[int, int, int]], quant: set[int], huffman: dict[tuple[int, int], tuple[bool, int]]
) -> bool:
    """Check one scan header; False when it uses a Huffman table never defined (libjpeg-turbo then
    takes the standard tables, as Motion-JPEG frames expect: left to a decode)."""
    count = payload[0] if payload else 0
    if not 1 <= count <= 4 or len(payload) != 4 + 2 * count:
        raise reject_jpeg("has a scan header of the wrong length")
    start, end, approximation = payload[1 + 2 * count], payload[2 + 2 * count], payload[3 + 2 * count]
    high, low = approximation >> 4, approximation & 0x0F
    progressive = frame == SOF_PROGRESSIVE
    if progressive and (end > 63 or start > end or (start == 0 and end != 0) or (start > 0 and count != 1)):
        raise reject_jpeg("has progressive scan parameters out of range")
    if progressive and ((high != 0 and low != high - 1) or low > 13):
        raise reject_jpeg("has a progressive refinement scan with bad successive-approximation bits")
    # The tables a scan decodes with: a sequential scan both; a progressive one DC (first pass) or AC.
    uses_dc = not progressive or (start == 0 and high == 0)
    uses_ac = not progressive or start > 0
    seen: set[int] = set()
    blocks = 0
    for index in range(count):
        ident, tables = payload[1 + 2 * index], payload[2 + 2 * index]
        if ident not in components or ident in seen:
            raise reject_jpeg("has a scan of a component its frame does not have")
        seen.add(ident)
        h, v, quant_table = components[ident]
        blocks += h * v
        if quant_table not in quant:
            raise reject_jpeg("uses a quantisation table it never defines")
        for used, kind, table in ((uses_dc, 0, tables >> 4), (uses_ac, 1, tables & 0x0F)):
            if not used:
                continue
            if table > 3:
                raise reject_jpeg("has a scan with a bad Huffman table number")
            if (kind, table) not in huffman:
                return False
            prefix_code, largest = huffman[(kind, table)]
            if not prefix_code:
                raise reject_jpeg("has a Huffman table that is not a prefix code")
            if kind == 0 and largest > 15:
                raise reject_jpeg("has a DC Huffman table with a symbol above 15")
    if count > 1 and blocks > _MAX_BLOCKS_IN_MCU:
        raise reject_jpeg("has a scan with too many blocks in one MCU")
    return True
