from __future__ import annotations

import pytest

from ugc_guard.evidence import client_address_evidence, user_agent_evidence

SECRET = b"s" * 32


def test_truncates_ipv4_to_24_and_ipv6_to_48() -> None:
    assert client_address_evidence("203.0.113.77", "truncated", None) == "203.0.113.0/24"
    assert client_address_evidence("2001:db8:abcd:12::1", "truncated", None) == "2001:db8:abcd::/48"
    assert client_address_evidence("::ffff:198.51.100.9", "truncated", None) == "198.51.100.0/24"


def test_keyed_hash_depends_on_secret_and_normalises() -> None:
    first = client_address_evidence("2001:db8::1", "keyed-hash", SECRET)
    assert first is not None and first.startswith("hmac-sha256:") and "2001" not in first
    assert client_address_evidence("2001:0db8:0::1", "keyed-hash", SECRET) == first
    assert client_address_evidence("2001:db8::1", "keyed-hash", b"t" * 32) != first
    with pytest.raises(ValueError, match="secret"):
        client_address_evidence("2001:db8::1", "keyed-hash", None)


def test_none_mode_and_missing_values_keep_nothing() -> None:
    assert client_address_evidence("203.0.113.77", "none", SECRET) is None
    assert client_address_evidence(None, "keyed-hash", SECRET) is None
    assert client_address_evidence("not-an-ip", "truncated", SECRET) is None
    assert user_agent_evidence("", "hash", SECRET) is None
    assert user_agent_evidence("curl/8", "none", SECRET) is None


def test_user_agent_is_hashed_keyed_when_a_secret_is_known() -> None:
    keyed = user_agent_evidence("Mozilla/5.0", "hash", SECRET)
    plain = user_agent_evidence("Mozilla/5.0", "hash", None)
    assert keyed is not None and keyed.startswith("hmac-sha256:")
    assert plain == "sha256:" + __import__("hashlib").sha256(b"Mozilla/5.0").hexdigest()
