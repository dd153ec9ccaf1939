"""The example site (examples/starlette_site) under uvicorn with several workers, on a policy of its own.

The policy is ``policies/onscreen.yaml`` with a few keys changed for the run (ledger URL, Redis,
limits, temp folder, trusted proxy), written into a temp folder; the terms and licence texts stay
where they are (absolute paths). Every virtual client sends its own ``X-Forwarded-For`` address
from the trusted loopback proxy, so rate limits count per client as on a real site.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks._services import free_port, wait_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_POLICY = REPO / "policies" / "onscreen.yaml"
SECRET = "proof-secret-" + "p" * 32
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

__all__ = ["BROWSER_UA", "SECRET", "RssSampler", "Site", "write_policy"]


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def write_policy(folder: Path, *, ledger: str, rate_limits: str, temp_dir: Path, overrides: dict[str, Any] | None = None) -> Path:
    """Write the example policy with the run's settings into ``folder``; return its path."""
    data = yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))
    for section in ("terms", "licence"):
        data[section]["texts"] = {lang: str((EXAMPLE_POLICY.parent / path).resolve()) for lang, path in data[section]["texts"].items()}
    if (EXAMPLE_POLICY.parent / "looks").is_dir():  # the look's logo is read relative to the policy file
        shutil.copytree(EXAMPLE_POLICY.parent / "looks", folder / "looks", dirs_exist_ok=True)
    data["ledger"] = {"url": ledger}
    data["uploads"]["temp_dir"] = str(temp_dir)
    data["rate_limits"] = _merge(
        data["rate_limits"],
        {
            "storage": rate_limits,
            "trusted_proxies": ["127.0.0.1/32", "::1/128"],
            "rules": [
                {"name": "pages", "limit": "600/minute", "scope": "client", "group": "pages"},
                {"name": "uploads", "limit": "6/hour", "scope": "subject", "group": "uploads"},
                {"name": "upload-bytes", "limit": "500000000/day", "scope": "client", "group": "uploads", "cost": "content-bytes"},
            ],
        },
    )
    data = _merge(data, overrides or {})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def rss_kib(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


@dataclass
class Site:
    """``examples.starlette_site.app:app`` under ``uvicorn --workers N`` on a free loopback port."""

    policy: Path
    upload_dir: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    log: Path | None = None
    preexec: Any = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "UGC_GUARD_POLICY": str(self.policy), "UGC_GUARD_SECRET": SECRET,
               "UGC_GUARD_UPLOAD_DIR": str(self.upload_dir), "PYTHONPATH": str(REPO)}  # fmt: skip
        env.pop("UGC_GUARD_DEVELOPMENT", None)
        log = (self.log or self.policy.parent / "uvicorn.log").open("ab")
        command = [sys.executable, "-m", "uvicorn", "examples.starlette_site.app:app", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers), "--no-proxy-headers",
                   "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5"]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=self.preexec)
        log.close()
        wait_port(self.port, timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # every worker has imported the app and answers
            if len(self.worker_pids()) >= self.workers and self._answers():
                return
            time.sleep(0.1)
        raise TimeoutError(f"the site did not start within {timeout:.0f} s; see {self.log_path}")

    @property
    def log_path(self) -> Path:
        return self.log or self.policy.parent / "uvicorn.log"

    def _answers(self) -> bool:
        try:
            for _ in range(4):
                response = httpx.get(self.base_url + "/", headers={"user-agent": BROWSER_UA}, timeout=5)
                if response.status_code != 200:
                    return False
        except httpx.HTTPError:
            return False
        return True

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes (spawned children of the supervisor), oldest first."""
        if self.process is None:
            return []
        pids = []
        for pid in _children(self.process.pid):
            with contextlib.suppress(OSError):
                if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(pid)
        return sorted(pids)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for pid in self.worker_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait(timeout=10)

    def tracebacks(self) -> list[str]:
        """Unhandled exceptions (500s): the blocks uvicorn logs as ``Exception in ASGI application``.

        Errors ugc_guard logs on purpose (e.g. "recording a submission failed" before a 503) are not counted.
        """
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [block.split("\nINFO:", 1)[0] for block in text.split("Exception in ASGI application")[1:]]

    def logged_errors(self) -> int:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text.count("ERROR:")

    def __enter__(self) -> Site:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RssSampler:
    """Samples the resident memory of a site's workers every ``interval`` seconds in a thread."""

    def __init__(self, site: Site, interval: float = 0.25) -> None:
        self.site = site
        self.interval = interval
        self.samples: dict[int, list[int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.site.worker_pids():
                value = rss_kib(pid)
                if value is not None:
                    self.samples.setdefault(pid, []).append(value)
            self._stop.wait(self.interval)

    @contextlib.contextmanager
    def running(self) -> Iterator[RssSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(timeout=5)
