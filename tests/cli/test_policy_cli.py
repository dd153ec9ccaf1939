from __future__ import annotations

import json

from click.testing import CliRunner

from tests.conftest import REPO
from ugc_guard.cli import main


def test_check_accepts_the_example_policies() -> None:
    result = CliRunner().invoke(main, ["policy", "check", *(str(p) for p in sorted((REPO / "policies").glob("*.yaml")))])
    assert result.exit_code == 0, result.output
    assert "casting.yaml: ok (campaign open-casting" in result.output
    assert "onscreen.yaml: ok (campaign onscreen" in result.output


def test_check_prints_one_line_per_problem_and_exits_1(policy_file) -> None:
    good = policy_file()
    bad = policy_file({"age": {"minimum": -1}, "uploads": {"routes": [{"path": "no-slash"}]}}, name="bad.yaml")
    result = CliRunner().invoke(main, ["policy", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{bad}: age.minimum: Input should be greater than or equal to 13",
        f"{bad}: uploads.routes[0].path: 'no-slash' is not a route path; write /upload, /entries/{{id}}/media or /media/*",
    ]
    assert result.stdout.startswith(f"{good}: ok")
    assert "Traceback" not in result.output


def test_check_reports_a_missing_file() -> None:
    result = CliRunner().invoke(main, ["policy", "check", "/nonexistent/policy.yaml"])
    assert result.exit_code == 1
    assert result.stderr == "/nonexistent/policy.yaml: file not found; check the path\n"


def test_schema_is_draft_2020_12_json_schema() -> None:
    result = CliRunner().invoke(main, ["policy", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {"campaign", "controller", "terms", "licence", "uploads"}
    assert schema["additionalProperties"] is False
    assert schema["properties"]["campaign"]["$ref"] == "#/$defs/Campaign"


def test_schema_validates_the_example_policies_and_rejects_typos() -> None:
    import jsonschema
    import yaml

    schema = json.loads(CliRunner().invoke(main, ["policy", "schema"]).stdout)
    for path in sorted((REPO / "policies").glob("*.yaml")):
        # editors see YAML dates as strings
        data = json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
        data["development"] = False  # the file says ${UGC_GUARD_DEVELOPMENT:-false}; editors see the raw text
        jsonschema.validate(data, schema)
        data["campain"] = data.pop("campaign")
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
        assert any("campain" in error.message for error in errors)


def test_check_warns_when_no_secret_is_set(policy_file) -> None:
    path = policy_file({"secret": "${NO_SUCH_SECRET_VARIABLE:-}"})
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 0
    assert result.stderr == f"{path}: warning: secret: not set; the middleware will refuse to start until UGC_GUARD_SECRET is set\n"
