"""Build the shipped agent list from ai.robots.txt's ``robots.json`` (MIT), keeping its attribution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["AGENTS_FILE", "LICENCE_FILE", "agent_list_from_robots_json", "write_agent_list"]

AGENTS_FILE = Path(__file__).with_name("agents.json")
LICENCE_FILE = Path(__file__).with_name("ai-robots-txt.LICENSE.txt")
SOURCE = "https://github.com/ai-robots-txt/ai.robots.txt"


def agent_list_from_robots_json(robots: dict[str, Any], version: str | None = None) -> dict[str, Any]:
    """Return the shipped list's document for a parsed ``robots.json`` mapping of token -> details.

    ``version`` is the text of the source's VERSION file (commit and date). Raises ValueError when
    ``robots`` is not a mapping of agent tokens to objects.
    """
    if not isinstance(robots, dict) or not robots:
        raise ValueError("robots.json must be a non-empty object mapping agent tokens to their details")
    agents = []
    for token, details in sorted(robots.items(), key=lambda item: item[0].casefold()):
        if not isinstance(token, str) or not token.strip() or not isinstance(details, dict):
            raise ValueError(f"robots.json entry {token!r} is not an agent token with an object of details")
        agents.append({"token": token.strip(), "operator": details.get("operator", ""), "function": details.get("function", "")})
    commit, _, date = (version or "").strip().partition(" ")
    return {
        "source": SOURCE,
        "commit": commit or None,
        "date": date or None,
        "licence": "MIT; the full notice is in ai-robots-txt.LICENSE.txt next to this file",
        "agents": agents,
    }


def write_agent_list(robots_json: Path, *, output: Path = AGENTS_FILE, licence_output: Path = LICENCE_FILE) -> int:
    """Regenerate the agent list from ``robots_json`` (its LICENSE and VERSION files are read from the
    same folder when present) and return the number of agents written.

    Raises OSError when a file cannot be read or written, ValueError when robots.json is malformed.
    """
    robots = json.loads(robots_json.read_text(encoding="utf-8"))
    version_file = robots_json.with_name("VERSION")
    version = version_file.read_text(encoding="utf-8") if version_file.exists() else None
    document = agent_list_from_robots_json(robots, version)
    licence_file = robots_json.with_name("LICENSE")
    if licence_file.exists():
        licence_output.write_text(licence_file.read_text(encoding="utf-8"), encoding="utf-8")
    output.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(document["agents"])
