"""Run an app file under a real uvicorn subprocess (default ``--lifespan auto`` unless told otherwise)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO

__all__ = ["free_port", "run_uvicorn", "serving"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command(app: str, port: int, *options: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), *options]


def _environ(env: Mapping[str, str | None]) -> dict[str, str]:
    environ = {**os.environ, "PYTHONPATH": str(REPO)}
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def run_uvicorn(folder: Path, app: str, env: Mapping[str, str | None], *options: str) -> subprocess.CompletedProcess[str]:
    """Run uvicorn in ``folder`` until it exits by itself (a startup failure); return its outcome."""
    return subprocess.run(_command(app, free_port(), *options), cwd=folder, env=_environ(env), capture_output=True, text=True, timeout=120)


@contextmanager
def serving(folder: Path, app: str, env: Mapping[str, str | None], *options: str) -> Iterator[tuple[str, Path]]:
    """Serve ``app`` from ``folder``; yield its base URL and the file its output goes to (stdout and stderr)."""
    port = free_port()
    log = folder / f"uvicorn-{port}.log"
    with log.open("w") as output:
        process = subprocess.Popen(_command(app, port, *options), cwd=folder, env=_environ(env), stdout=output, stderr=subprocess.STDOUT)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {process.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        process.wait(timeout=30)
