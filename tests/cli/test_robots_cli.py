from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from protego import Protego

from ugc_guard.cli import main


def test_render_robots(policy_file: Callable[..., Path]) -> None:
    result = CliRunner().invoke(main, ["robots", "render", "--policy", str(policy_file())])
    assert result.exit_code == 0, result.output
    robots = Protego.parse(result.output)
    assert not robots.can_fetch("http://h/", "GPTBot") and robots.can_fetch("http://h/", "Mozilla/5.0")


def test_render_nginx_and_caddy_agree_with_the_app(policy_file: Callable[..., Path]) -> None:
    path = policy_file({"scraping": {"allow_agents": ["GPTBot"]}})
    nginx = CliRunner().invoke(main, ["robots", "render", "--policy", str(path), "--format", "nginx"])
    caddy = CliRunner().invoke(main, ["robots", "render", "--policy", str(path), "--format", "caddy"])
    assert nginx.exit_code == 0 and caddy.exit_code == 0
    assert "map $http_user_agent $ugc_guard_agent" in nginx.output and "return 403;" in nginx.output
    assert "respond @ugc_guard_ai" in caddy.output and "respond @ugc_guard_always" in caddy.output
    ai = re.compile(re.findall(r"\n    header_regexp User-Agent `\(\?i\)(.*)`", caddy.output)[-1], re.IGNORECASE)
    allow = re.compile(re.findall(r"not header_regexp User-Agent `\(\?i\)(.*)`", caddy.output)[0], re.IGNORECASE)
    assert ai.search("Mozilla/5.0 (compatible; ClaudeBot/1.0)") and not ai.search("Mozilla/5.0 Claudette/1.0")
    assert allow.search("GPTBot/1.2")
    assert not ai.search("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36")


def test_bad_policy_is_one_line_per_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaign: {}\n")
    result = CliRunner().invoke(main, ["robots", "render", "--policy", str(bad)])
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_agents_refresh(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "robots.json").write_text(json.dumps({"NewBot": {"operator": "X", "function": "training"}, "GPTBot": {}}))
    (source / "VERSION").write_text("0123abcd 2027-01-01\n")
    (source / "LICENSE").write_text("MIT License\n\nCopyright (c) 2024 ai.robots.txt\n")
    output = tmp_path / "out" / "agents.json"
    output.parent.mkdir()
    result = CliRunner().invoke(main, ["agents", "refresh", str(source / "robots.json"), "--output", str(output)])
    assert result.exit_code == 0, result.output
    document = json.loads(output.read_text())
    assert [agent["token"] for agent in document["agents"]] == ["GPTBot", "NewBot"]
    assert (document["commit"], document["date"]) == ("0123abcd", "2027-01-01")
    assert "ai.robots.txt" in (output.parent / "ai-robots-txt.LICENSE.txt").read_text()
    broken = tmp_path / "broken.json"
    broken.write_text("[1, 2]")
    failed = CliRunner().invoke(main, ["agents", "refresh", str(broken), "--output", str(output)])
    assert failed.exit_code == 1 and "broken.json" in failed.output
