from __future__ import annotations

from ipaddress import ip_network

import pytest

from ugc_guard.identity import client_address

PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8:ffff::/48")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "xff", "expected"),
    [
        ("203.0.113.5", None, "198.51.100.1", "203.0.113.5"),  # untrusted peer: spoofed header ignored
        ("203.0.113.5", "for=198.51.100.1", None, "203.0.113.5"),
        ("10.0.0.2", None, "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", None, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),  # right to left, first untrusted hop
        ("10.0.0.2", None, "garbage, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", None, "198.51.100.1, garbage", "10.0.0.2"),  # unparsable hop stops at the last believed one
        ("10.0.0.2", 'for="[2001:db8::7]:443";proto=https', "198.51.100.1", "2001:db8::7"),  # Forwarded wins
        ("10.0.0.2", None, "192.0.2.4:8080", "192.0.2.4"),
        ("2001:db8:ffff::1", None, "198.51.100.1", "198.51.100.1"),
        ("::ffff:10.0.0.2", None, "198.51.100.1", "198.51.100.1"),  # IPv4-mapped proxy address
        ("10.0.0.2", None, None, "10.0.0.2"),
        (None, None, "198.51.100.1", None),
    ],
)
def test_client_address(peer: str | None, forwarded: str | None, xff: str | None, expected: str | None) -> None:
    assert client_address(peer, PROXIES, forwarded, xff) == expected


def test_no_trusted_proxies_means_only_the_peer() -> None:
    assert client_address("10.0.0.2", [], None, "198.51.100.1") == "10.0.0.2"
