"""The console in headless Chromium: sign in, search a subject, open a submission, verify a receipt."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import browser, free_port
from tests.browser.test_gate_browser import click_and_wait
from tests.conftest import REPO, write_policy
from tests.console.conftest import SECRET, Filled, fill
from ugc_guard.policy import load_policy

__all__ = ["browser"]

pytestmark = pytest.mark.browser
PASSWORD = "browser-console-password"


@pytest.fixture
def console_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Filled]]:
    monkeypatch.setenv("UGC_GUARD_SECRET", SECRET)
    policy_path = write_policy(tmp_path / "policy")
    filled = fill(f"sqlite:///{tmp_path / 'ledger.sqlite3'}", load_policy(policy_path))
    port = free_port()
    log = (tmp_path / "uvicorn.log").open("wb")
    env = {**os.environ, "UGC_GUARD_POLICY": str(policy_path), "UGC_GUARD_LEDGER": filled.url,
           "UGC_GUARD_CONSOLE_USER": "legal", "UGC_GUARD_CONSOLE_PASSWORD": PASSWORD, "UGC_GUARD_CONSOLE_OPEN_PERSONAL": "1"}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "examples.console_site.app:app", "--host", "127.0.0.1",
                                "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("uvicorn exited:\n" + (tmp_path / "uvicorn.log").read_text(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", filled
    finally:
        process.terminate()
        process.wait()
        log.close()


def test_sign_in_search_open_and_verify(browser: object, console_server: tuple[str, Filled], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(browser, WebDriver)
    origin, filled = console_server
    browser.get(f"{origin}/console/?q=alice")
    assert browser.current_url.startswith(f"{origin}/console/login?next=")
    browser.find_element(By.ID, "username").send_keys("legal")
    browser.find_element(By.ID, "password").send_keys("wrong")
    click_and_wait(browser, browser.find_element(By.ID, "sign-in"))
    assert browser.find_element(By.ID, "error").text == "wrong user name or password"
    browser.find_element(By.ID, "username").send_keys("legal")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.ID, "sign-in"))
    assert browser.current_url == f"{origin}/console/?q=alice"  # back where the person was going
    assert "Personal fields (names, e-mail addresses, network evidence) are shown opened" in browser.find_element(
        By.ID, "personal-notice").text
    statuses = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#results td.status")]
    assert statuses == ["stored", "not stored"]
    browser.save_screenshot(str(REPO / "docs" / "screenshots" / "console-search.png"))
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, str(filled.stored)))
    assert browser.find_element(By.ID, "current-status").text == "stored"
    texts = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "pre.shown-text")]
    assert texts == [filled.policy.terms.texts["en"].text.strip(), filled.policy.licence.texts["en"].text.strip()]
    browser.save_screenshot(str(REPO / "docs" / "screenshots" / "console-submission.png"))
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Verify a receipt"))
    receipt = tmp_path / "receipt.json"
    receipt.write_text(filled.signed_receipt, encoding="utf-8")
    browser.find_element(By.ID, "file").send_keys(str(receipt))
    click_and_wait(browser, browser.find_element(By.ID, "verify"))
    assert browser.find_element(By.CSS_SELECTOR, "#report h2").text == "This receipt is genuine"
    assert browser.find_element(By.ID, "signature-check").text.startswith("Signature: valid: signed by key")
    browser.save_screenshot(str(REPO / "docs" / "screenshots" / "console-receipt.png"))
    click_and_wait(browser, browser.find_element(By.ID, "open-submission"))
    assert browser.current_url == f"{origin}/console/submissions/{filled.stored}"
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Takedown list"))
    assert [row.text.split()[:2] for row in browser.find_elements(By.CSS_SELECTOR, "#takedowns tbody tr")] == [
        [str(filled.withdrawn), "bob"]]
