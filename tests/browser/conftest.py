"""A real headless Chromium (Debian's chromium + chromium-driver) driving the example site under uvicorn."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PERSON_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def _require_browser() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        message = f"{', '.join(missing)} not installed; install Debian's chromium and chromium-driver (scripts/test.sh does)"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing browser is a failure)")
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """The example Starlette site under uvicorn in a subprocess; its log is kept to read guardian links."""

    def __init__(self, policy: str, folder: Path) -> None:
        from ugc_guard.ledger import Ledger

        self.port = free_port()
        ledger = f"sqlite:///{folder / 'ledger.sqlite3'}"
        Ledger(ledger).upgrade()
        self.log_path = folder / f"uvicorn-{self.port}.log"
        env = {
            **os.environ,
            "UGC_GUARD_POLICY": str(REPO / "policies" / policy),
            "UGC_GUARD_LEDGER": ledger,
            "UGC_GUARD_UPLOAD_DIR": str(folder / "uploads"),
            "UGC_GUARD_SECRET": "browser-test-secret-" + "y" * 24,
            # links in guardian e-mails start at the campaign's origin, never at the Host header
            "UGC_GUARD_ORIGIN": f"http://{'casting.localhost' if policy.startswith('casting') else '127.0.0.1'}:{self.port}",
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "examples.starlette_site.app:app", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("uvicorn exited:\n" + self.log_path.read_text(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
        self._log.close()


@pytest.fixture
def browser() -> Iterator[object]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="ugc-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={profile}", "--window-size=1100,1600", "--lang=en-US",
                     # the site blocks HeadlessChrome as a scraping tool (block_scraping_tools); act as a person's browser
                     f"--user-agent={PERSON_AGENT}"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    servers: list[Server] = []

    def start(policy: str) -> Server:
        server = Server(policy, tmp_path / policy.replace(".yaml", ""))
        servers.append(server)
        return server

    (tmp_path / "onscreen").mkdir()
    (tmp_path / "casting").mkdir()
    yield start
    for server in servers:
        server.stop()
