"""SVG, only when the policy allows it: refused if it could run script or fetch anything.

No sanitiser rewrites the file; an SVG either is inert as sent or is refused. A document type
declaration is refused before parsing, so no entity (XXE, billion laughs) is ever expanded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from ..problems import Problem

__all__ = ["check_svg"]

MAX_SVG_BYTES = 2 * 1024 * 1024
_FORBIDDEN_TAGS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "set", "animate"}
_EXTERNAL_CSS = re.compile(r"@import|url\(\s*['\"]?\s*(?!#)|expression\s*\(", re.IGNORECASE)


def check_svg(data: bytes) -> None:
    """Raise 422 ``content-rejected`` when the SVG has a DTD, script, handlers or external references."""
    if len(data) > MAX_SVG_BYTES:
        raise Problem("content-rejected", "the SVG is too large")
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise Problem("content-rejected", "the SVG has a document type declaration (entities are not allowed)")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise Problem("content-rejected", "the SVG is not well-formed XML") from None
    if _local(root.tag) != "svg":
        raise Problem("content-rejected", "the file is XML but not an SVG image")
    for element in root.iter():
        if _local(element.tag) in _FORBIDDEN_TAGS:
            raise Problem("content-rejected", f"the SVG contains a <{_local(element.tag)}> element")
        if _local(element.tag) == "style" and _EXTERNAL_CSS.search(element.text or ""):
            raise Problem("content-rejected", "the SVG's style loads external resources")
        for name, value in element.attrib.items():
            attribute = _local(name)
            if attribute.startswith("on"):
                raise Problem("content-rejected", "the SVG has an event handler attribute")
            if attribute in ("href", "src") and not value.strip().startswith("#"):
                raise Problem("content-rejected", "the SVG references an external resource")
            if attribute == "style" and _EXTERNAL_CSS.search(value):
                raise Problem("content-rejected", "the SVG's style loads external resources")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()
