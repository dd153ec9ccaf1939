from __future__ import annotations

from pathlib import Path

import pytest

from ugc_guard.policy import PolicyError, load_policies, load_policy
from ugc_guard.policy.types import add_duration, duration_seconds

REPO = Path(__file__).resolve().parents[2]


def errors_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(path, environ=environ)
    return caught.value.lines


def test_example_policies_load() -> None:
    policies = load_policies(REPO / "policies", environ={"UGC_GUARD_SECRET": "s" * 32})
    by_id = {policy.campaign.id: policy for policy in policies}
    assert by_id["onscreen"].age.minimum == 18 and by_id["onscreen"].age.guardian_minimum is None
    casting = by_id["open-casting"]
    assert casting.age.guardian_minimum == 16
    assert casting.retention.unused_submissions is not None
    assert casting.retention.unused_submissions.period == "P3M"
    for policy in policies:
        assert set(policy.terms.texts) == {"en", "nl"} == set(policy.licence.texts)
        assert len(policy.terms.texts["nl"].sha256) == 64


def test_loaded_policy_is_frozen(make_policy) -> None:
    policy = make_policy()
    with pytest.raises(Exception, match="frozen"):
        policy.age.minimum = 3  # type: ignore[misc]


def test_text_hash_is_of_the_exact_file(policy_file) -> None:
    import hashlib

    path = policy_file()
    policy = load_policy(path)
    assert policy.terms.texts["en"].sha256 == hashlib.sha256((path.parent / "terms.en.md").read_bytes()).hexdigest()


def test_wrong_type_names_file_and_field(policy_file) -> None:
    path = policy_file({"age": {"minimum": "eighteen"}})
    assert errors_of(path) == [f"{path}: age.minimum: Input should be a valid integer, unable to parse string as an integer"]


def test_unknown_key_lists_the_allowed_ones(policy_file) -> None:
    path = policy_file({"uploads": {"max_byts": 10}})
    (line,) = errors_of(path)
    assert line.startswith(f"{path}: uploads.max_byts: unknown key; remove it or fix its spelling; allowed here: routes,")


def test_missing_text_file(policy_file) -> None:
    path = policy_file({"terms": {"texts": {"en": "nope.md", "nl": "terms.nl.md"}}})
    (line,) = errors_of(path)
    assert line.startswith(f"{path}: terms.texts.en: text file ") and "does not exist" in line


def test_unreadable_file(policy_file, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root here, where chmod 0 does not stop reading; make the read itself fail.
    path = policy_file()

    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    assert errors_of(path) == [f"{path}: cannot be read (Permission denied); check its permissions"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("campaign: caf\xe9\n".encode("latin-1"))
    assert errors_of(path) == [f"{path}: not UTF-8 text; save the policy as UTF-8"]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    assert errors_of(tmp_path) == [f"{tmp_path}: is a folder; name a policy file, or pass policies= for a folder"]


def test_missing_file(tmp_path: Path) -> None:
    assert errors_of(tmp_path / "absent.yaml") == [f"{tmp_path / 'absent.yaml'}: file not found; check the path"]


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("campaign:\n  id: [unclosed\n", encoding="utf-8")
    (line,) = errors_of(path)
    assert line.startswith(f"{path}:3:1: invalid YAML: ")


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    (line,) = errors_of(path)
    assert "a policy must be a YAML mapping" in line


def test_negative_limit(policy_file) -> None:
    path = policy_file({"uploads": {"routes": [{"path": "/upload", "limits": {"max_files": -1}}]}})
    assert errors_of(path) == [f"{path}: uploads.routes[0].limits.max_files: Input should be greater than or equal to 1"]


def test_negative_size(policy_file) -> None:
    path = policy_file({"uploads": {"routes": [{"path": "/upload", "limits": {"max_total_bytes": -5}}]}})
    (line,) = errors_of(path)
    assert line == f"{path}: uploads.routes[0].limits.max_total_bytes: -5 must be greater than 0"


def test_unknown_content_type(policy_file) -> None:
    path = policy_file({"uploads": {"content_types": ["image/jpeg", "image/jpg2"]}})
    (line,) = errors_of(path)
    assert line.startswith(f"{path}: uploads.content_types[1]: 'image/jpg2' is not a known content type")


def test_duration_not_iso8601(policy_file) -> None:
    path = policy_file({"retention": {"submissions": {"period": "90 days"}}})
    (line,) = errors_of(path)
    assert line.startswith(f"{path}: retention.submissions.period: '90 days' is not an ISO 8601 duration")


def test_missing_environment_variable(policy_file) -> None:
    path = policy_file({"ledger": {"url": "${LEDGER_URL_FOR_TEST}"}})
    lines = errors_of(path, environ={"UGC_GUARD_SECRET": "s" * 32})
    assert lines == [
        f"{path}: ledger.url: environment variable LEDGER_URL_FOR_TEST is not set; set it, or write ${{LEDGER_URL_FOR_TEST:-default}}"
    ]


def test_environment_default_and_value(policy_file) -> None:
    path = policy_file({"ledger": {"url": "${LEDGER_URL_FOR_TEST:-sqlite:///fallback.sqlite3}"}})
    assert load_policy(path, environ={"UGC_GUARD_SECRET": "s" * 32}).ledger.url == "sqlite:///fallback.sqlite3"
    environ = {"UGC_GUARD_SECRET": "s" * 32, "LEDGER_URL_FOR_TEST": "sqlite:///from-env.sqlite3"}
    assert load_policy(path, environ=environ).ledger.url == "sqlite:///from-env.sqlite3"


def test_secret_is_not_shown(make_policy) -> None:
    policy = make_policy()
    assert "test-secret" not in repr(policy) and "test-secret" not in policy.model_dump_json()


def test_every_error_is_reported_at_once(policy_file) -> None:
    path = policy_file({"age": {"minimum": 99, "guardian_minimum": "x"}, "privacy": {"client_address": "plain"}})
    fields = [line.split(": ")[1] for line in errors_of(path)]
    assert fields == ["age.minimum", "age.guardian_minimum", "privacy.client_address"]


def test_guardian_minimum_must_be_below_minimum(policy_file) -> None:
    path = policy_file({"age": {"minimum": 18, "guardian_minimum": 18}})
    assert errors_of(path) == [f"{path}: age: guardian_minimum must be lower than minimum"]


def test_svg_needs_explicit_allowance(policy_file) -> None:
    path = policy_file({"uploads": {"content_types": ["image/svg+xml"]}})
    (line,) = errors_of(path)
    assert "allow_svg is false" in line


def test_bad_rate_limit(policy_file) -> None:
    path = policy_file({"rate_limits": {"rules": [{"name": "x", "limit": "lots per day"}]}})
    (line,) = errors_of(path)
    assert line.startswith(f"{path}: rate_limits.rules[0].limit: 'lots per day' is not a rate limit")


def test_folder_with_duplicate_hosts(tmp_path: Path) -> None:
    from tests.conftest import write_policy

    write_policy(tmp_path, {"campaign": {"id": "one"}}, "a.yaml")
    write_policy(tmp_path, {"campaign": {"id": "two"}}, "b.yaml")
    with pytest.raises(PolicyError) as caught:
        load_policies(tmp_path)
    assert caught.value.lines == [
        f"{tmp_path / 'b.yaml'}: campaign.hosts: 'testserver' is already served by {tmp_path / 'a.yaml'}; a host belongs to one campaign",
        f"{tmp_path / 'b.yaml'}: campaign.hosts: 'guarded.test' is already served by {tmp_path / 'a.yaml'}; a host belongs to one campaign",
    ]


def test_terms_revision_without_reacceptance(make_policy) -> None:
    policy = make_policy({"terms": {"version": "1.1", "requires_reacceptance": False, "keeps_acceptances_of": ["1"]}})
    assert policy.terms.accepts("1.1") and policy.terms.accepts("1") and not policy.terms.accepts("0")
    assert not make_policy({"terms": {"version": "2"}}).terms.accepts("1")


def test_durations_are_calendar_aware() -> None:
    import datetime as dt

    anchor = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    assert add_duration(anchor, "P3M") == dt.datetime(2027, 2, 28, tzinfo=dt.UTC)
    assert add_duration(anchor, "P90D") == dt.datetime(2027, 2, 28, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    assert add_duration(summer, "P3M") == dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert add_duration(summer, "P90D") == dt.datetime(2026, 9, 29, tzinfo=dt.UTC)
    assert duration_seconds("PT90S") == 90


def test_a_key_with_a_line_break_is_quoted_in_its_one_line_error(policy_file) -> None:
    path = policy_file({"age": {"colour\nred": 1}})
    (line,) = errors_of(path)
    assert line.startswith(f'{path}: age."colour\\nred": unknown key;') and "\n" not in line
