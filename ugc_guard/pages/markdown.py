"""A tiny, safe Markdown subset for terms texts: headings, paragraphs, lists, bold, italics.

Everything is HTML-escaped first; only the markup this module emits reaches the page, so a terms
file cannot inject HTML. Anything it does not know is shown as plain (escaped) text.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

__all__ = ["render_markdown"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ORDERED = re.compile(r"^\d+[.)]\s+(.*)$")
_UNORDERED = re.compile(r"^[-*+]\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])[*_](?![*\s])(.+?)(?<![*\s])[*_](?![*\w])")


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=True)
    return _ITALIC.sub(r"<em>\1</em>", _BOLD.sub(r"<strong>\1</strong>", escaped))


def render_markdown(source: str, heading_offset: int = 1) -> Markup:
    """Return safe HTML for ``source``; headings are shifted down by ``heading_offset`` levels."""
    out: list[str] = []
    paragraph: list[str] = []
    list_kind: str | None = None
    item: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def flush_item() -> None:
        if item:
            out.append(f"<li>{_inline(' '.join(item))}</li>")
            item.clear()

    def close_list() -> None:
        nonlocal list_kind
        flush_item()
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = None

    for raw in source.splitlines():
        line = raw.strip()
        heading = _HEADING.match(line)
        ordered = _ORDERED.match(line)
        unordered = _UNORDERED.match(line)
        if not line:
            flush_paragraph()
            close_list()
        elif heading:
            flush_paragraph()
            close_list()
            level = min(len(heading.group(1)) + heading_offset, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif ordered or unordered:
            flush_paragraph()
            kind = "ol" if ordered else "ul"
            if list_kind != kind:
                close_list()
                out.append(f"<{kind}>")
                list_kind = kind
            flush_item()
            item.append((ordered or unordered).group(1))  # type: ignore[union-attr]
        elif list_kind and raw[:1].isspace():
            item.append(line)  # continuation of a list item
        else:
            close_list()
            paragraph.append(line)
    flush_paragraph()
    close_list()
    return Markup("\n".join(out))
