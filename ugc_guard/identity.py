"""Who is asking: the client address behind trusted proxies.

Client identity follows the domain notes §5: headers from an untrusted peer are ignored; with
trusted proxy networks, ``Forwarded`` (RFC 7239) or ``X-Forwarded-For`` is walked right to left
and the first hop outside the trusted networks is the client.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["IPNetwork", "client_address", "client_key", "forwarded_hops"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_FOR_RE = re.compile(r'for\s*=\s*("?)([^;,"]*)\1', re.IGNORECASE)


@lru_cache(maxsize=4096)  # peers are few (the proxies); forwarded hops repeat per client
def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:443
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # 192.0.2.1:8080
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def forwarded_hops(forwarded: str | None, x_forwarded_for: str | None) -> list[str]:
    """Return the proxy chain, client first: from ``Forwarded`` if present, else ``X-Forwarded-For``."""
    if forwarded:
        return [match.group(2) for match in _FOR_RE.finditer(forwarded)]
    if x_forwarded_for:
        return [hop.strip() for hop in x_forwarded_for.split(",")]
    return []


def client_address(
    peer: str | None,
    trusted: Sequence[IPNetwork],
    forwarded: str | None = None,
    x_forwarded_for: str | None = None,
) -> str | None:
    """Return the client address as a string.

    ``peer`` is the socket peer. Forwarding headers are believed only while each hop, walking from the
    peer leftwards, is inside ``trusted``; the first untrusted hop is the client. A hop that is not
    an address stops the walk at the last believed hop.
    """
    if not trusted:  # nothing is believed: the socket peer, as the server reported it
        return peer
    peer_ip = _parse_ip(peer) if peer else None
    if peer_ip is None or not _inside(peer_ip, trusted):
        return str(peer_ip) if peer_ip is not None else peer
    candidate = peer_ip
    for hop in reversed(forwarded_hops(forwarded, x_forwarded_for)):
        hop_ip = _parse_ip(hop)
        if hop_ip is None:
            break
        candidate = hop_ip
        if not _inside(hop_ip, trusted):
            break
    return str(candidate)


def _inside(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: Sequence[IPNetwork]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def client_key(address: str | None) -> str:
    """Return the key a client address is counted under: the address, or its /64 for IPv6.

    One IPv6 subscriber usually holds a whole /64, so counting single addresses would let one
    client rotate through millions of them.
    """
    if not address:
        return "unknown"
    if ":" not in address:
        return address
    try:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    except ValueError:
        return address
