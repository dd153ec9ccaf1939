"""The trap path flags clients that fetch it themselves, never visitors whose browser another page sent there.

Any page on the web can make a visitor's browser request the trap: ``<img src=https://campaign/ugc-guard/trap>``,
an iframe, a stylesheet link, a prefetch hint, a script-driven redirect. Flagging the visitor's address for that
would let anyone get a campaign's visitors throttled. Browsers say who started a request (W3C Fetch Metadata:
``Sec-Fetch-Site``, ``Sec-Fetch-Mode``, ``Sec-Fetch-Dest``; ``Sec-Purpose`` for speculative loads); a crawler
fetching the URL itself sends none of it, or describes its own top-level navigation.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["trap_flags"]

_STARTED_ELSEWHERE = frozenset({"cross-site", "same-site"})
_SPECULATIVE = ("prefetch", "prerender", "preview")
_PURPOSE_HEADERS = ("sec-purpose", "purpose", "x-purpose", "x-moz")


def trap_flags(headers: Mapping[str, str]) -> bool:
    """Return whether a request for the trap path flags its client.

    True for a request the client made on its own: without Fetch Metadata (crawlers, scripts,
    HTTP libraries), or a top-level navigation no other site started (``Sec-Fetch-Site`` ``none``
    or ``same-origin``, ``Sec-Fetch-Mode`` ``navigate``, ``Sec-Fetch-Dest`` ``document``).
    False for a request another site started (``Sec-Fetch-Site`` ``cross-site`` or ``same-site``,
    whatever it loads), any sub-resource or embedded load (``Sec-Fetch-Dest`` ``image``, ``script``,
    ``style``, ``font``, ``iframe``…; ``Sec-Fetch-Mode`` ``no-cors``, ``cors``…), and speculative
    loads (``Sec-Purpose``/``Purpose`` ``prefetch`` or ``prerender``).
    """
    for name in _PURPOSE_HEADERS:
        purpose = headers.get(name, "").lower()
        if any(word in purpose for word in _SPECULATIVE):
            return False
    if headers.get("sec-fetch-site", "").strip().lower() in _STARTED_ELSEWHERE:
        return False
    mode = headers.get("sec-fetch-mode", "").strip().lower()
    if mode and mode != "navigate":
        return False
    destination = headers.get("sec-fetch-dest", "").strip().lower()
    return not destination or destination == "document"
