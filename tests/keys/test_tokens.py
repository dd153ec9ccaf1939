"""Made with the first secret, opened with any: subject cookies, form tokens, wrapped subject keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ugc_guard.ledger import LedgerError
from ugc_guard.ledger.crypto import Sealer, seal_context
from ugc_guard.pages.csrf import FormTokens
from ugc_guard.policy import Policy
from ugc_guard.sites import Site
from ugc_guard.subject import SubjectCookie, SubjectStage

OLD, NEW = b"old-secret-" + b"o" * 16, b"new-secret-" + b"n" * 16


def test_a_cookie_made_with_the_old_secret_is_read_after_rotation() -> None:
    subject, value = SubjectCookie(OLD, "summer").new()
    assert SubjectCookie([NEW, OLD], "summer").read(value) == subject
    assert SubjectCookie([NEW], "summer").read(value) is None  # dropping the old secret drops its cookies
    assert SubjectCookie([NEW, OLD], "winter").read(value) is None


def test_new_cookies_are_made_with_the_newest_secret() -> None:
    subject, value = SubjectCookie([NEW, OLD], "summer").new()
    assert SubjectCookie(NEW, "summer").read(value) == subject
    assert SubjectCookie([NEW], "summer").read(value) == subject
    assert SubjectCookie([OLD], "summer").read(value) is None
    assert SubjectCookie(OLD, "summer").new()[1].split(".")[1] != SubjectCookie([NEW, OLD], "summer").new()[1].split(".")[1]


def test_form_tokens_rotate_the_same_way() -> None:
    old_token = FormTokens(OLD, "summer").make("alice")
    rotated = FormTokens([NEW, OLD], "summer")
    assert rotated.check("alice", old_token) is True
    assert rotated.check("bob", old_token) is False
    new_token = rotated.make("alice")
    assert FormTokens([NEW], "summer").check("alice", new_token) is True
    assert FormTokens([OLD], "summer").check("alice", new_token) is False
    assert FormTokens([NEW], "summer").check("alice", old_token) is False


def test_no_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one non-empty secret"):
        SubjectCookie([], "summer")
    with pytest.raises(ValueError, match="at least one non-empty secret"):
        FormTokens([NEW, b""], "summer")


def test_subject_keys_wrapped_with_the_old_secret_unwrap_with_any_listed_one() -> None:
    key, wrapped = Sealer([OLD]).new_key("summer", "alice")
    sealed = Sealer.seal(key, seal_context("summer", "alice", "submission"), {"original_name": "beach.jpg"})
    rotated = Sealer([NEW, OLD])
    assert rotated.unwrap_with_index("summer", "alice", wrapped) == (key, 1)
    assert Sealer.open(rotated.unwrap("summer", "alice", wrapped), seal_context("summer", "alice", "submission"), sealed) == {
        "original_name": "beach.jpg"}
    rewrapped = rotated.wrap("summer", "alice", key)
    assert Sealer([NEW]).unwrap_with_index("summer", "alice", rewrapped) == (key, 0)
    with pytest.raises(LedgerError, match="does not open with any listed secret"):
        Sealer([NEW]).unwrap("summer", "alice", wrapped)
    with pytest.raises(LedgerError, match="does not open with any listed secret"):
        rotated.unwrap("summer", "bob", wrapped)  # bound to its subject
    _, fresh = rotated.new_key("summer", "carol")
    assert Sealer([NEW]).unwrap_with_index("summer", "carol", fresh)[1] == 0
    with pytest.raises(LedgerError, match="needs the site secret"):
        Sealer([]).unwrap("summer", "alice", wrapped)


class User:
    is_authenticated = True
    identity = "user-42"


def test_scope_user_pseudonyms_keep_the_oldest_listed_secret(make_policy: Callable[..., Policy]) -> None:
    def pseudonym(*secrets: bytes) -> str | None:
        site = Site.build(make_policy())
        site.secret, site.secrets = secrets[0], secrets
        return SubjectStage(site).from_user(User())

    assert pseudonym(OLD) == pseudonym(NEW, OLD)  # adding a secret keeps every user's subject
    assert pseudonym(NEW) != pseudonym(OLD)  # dropping the one that keyed it gives new subjects


def test_a_new_subject_id_never_begins_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff paste subject ids into the CLI (``ugc-guard subject export ID``), where ``-R…`` reads as an option."""
    import secrets

    from ugc_guard.subject import SubjectCookie

    drawn = iter(["-Rdash-first-abcdefghijk", "--twice-abcdefghijklmn", "Aplain-id-abcdefghijklm"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda size: next(drawn))
    subject, cookie = SubjectCookie(b"k" * 40, "c").new()
    assert subject == "Aplain-id-abcdefghijklm"
    assert SubjectCookie(b"k" * 40, "c").read(cookie) == subject
