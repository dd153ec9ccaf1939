"""Terms and licence texts as HTML, through markdown-it-py (CommonMark plus tables).

Raw HTML in a text is shown as text, never passed on (``html: False``); links are allowed, but
markdown-it's link check refuses ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` targets, and
images are off (the pages' CSP would block a foreign image anyway). Headings move down a level so a
text's ``#`` sits under the page's own ``<h2>``. markdown-it drops whatever nests deeper than its
``maxNesting`` (20 levels: about nine lists in lists); such a text is shown whole as plain text instead,
as the ledger records the SHA-256 of all of it as shown.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["render_markdown"]

_CONTAINERS = {"blockquote_open", "bullet_list_open", "ordered_list_open", "list_item_open"}


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").disable("image")


def render_markdown(source: str, heading_offset: int = 1) -> Markup:
    """Return safe HTML for ``source``; headings are shifted down by ``heading_offset`` levels (at most ``<h6>``)."""
    parser = _parser()
    tokens = parser.parse(source)
    deepest = parser.options["maxNesting"] - 1
    if any(token.type in _CONTAINERS and token.level >= deepest for token in tokens):  # its content was dropped
        return Markup('<div class="plain" style="white-space:pre-wrap">{}</div>').format(source)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + heading_offset, 6)}"
        elif token.type == "inline":
            for child in token.children or []:
                if child.type == "link_open":
                    child.attrSet("rel", "noopener noreferrer")
    return Markup(parser.renderer.render(tokens, parser.options, {}))
