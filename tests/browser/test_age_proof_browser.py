"""Issue 15 in a real browser: the terms page's Proof of Age block under its Content-Security-Policy.

Headless Chromium has no wallet. Where the browser has no Digital Credentials API the page must
explain the alternatives; where it has one, the page's own script asks the server for a request,
hands it to ``navigator.credentials.get`` and posts the answer back. The wallet is stood in for by a
stub of ``navigator.credentials.get`` installed before the page's scripts run, answered by the
test wallet in Python with a presentation for the nonce the page received.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.agecheck.wallet import issue, make_issuer, present
from tests.browser.conftest import Server
from tests.conftest import REPO

from .test_gate_browser import SHOTS, wait_for

pytestmark = pytest.mark.browser

NO_API = "delete window.DigitalCredential;"
STUB_WALLET = """
(() => {
  class DigitalCredential {}
  DigitalCredential.userAgentAllowsProtocol = (protocol) => protocol === "openid4vp-v1-unsigned";
  window.DigitalCredential = DigitalCredential;
  Object.defineProperty(navigator.credentials, "get", {configurable: true, value: (options) => new Promise((resolve, reject) => {
    window.__walletRequest = JSON.parse(JSON.stringify(options.digital));
    window.__walletAnswer = (data) => resolve({protocol: "openid4vp-v1-unsigned", data});
    window.__walletCancel = () => reject(new DOMException("the person closed the wallet", "NotAllowedError"));
  })});
})();
"""


@pytest.fixture
def av_server(tmp_path: Path) -> Any:
    """The example site with the onscreen policy switched to ``eu-age-verification`` and a fresh issuing CA."""
    issuer = make_issuer()
    folder = tmp_path / "av"
    folder.mkdir()
    (folder / "av-ca.pem").write_text(issuer.ca_pem(), encoding="ascii")
    policy = yaml.safe_load((REPO / "policies" / "onscreen.yaml").read_text(encoding="utf-8"))
    for section in ("terms", "licence"):
        policy[section]["texts"] = {lang: str(REPO / "policies" / path) for lang, path in policy[section]["texts"].items()}
    policy["look"]["logo"] = str(REPO / "policies" / policy["look"]["logo"])
    policy["age"] = {"minimum": 18, "method": "eu-age-verification", "trusted_issuers": [str(folder / "av-ca.pem")]}
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    server = Server(str(path), folder)
    try:
        yield server, issuer
    finally:
        server.stop()


def before_page_scripts(driver: Any, source: str) -> None:
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})


def test_without_the_api_the_page_explains_the_alternatives(browser: Any, av_server: Any) -> None:
    from selenium.webdriver.common.by import By

    server, _issuer = av_server
    before_page_scripts(browser, NO_API)
    browser.get(f"http://127.0.0.1:{server.port}/ugc-guard/terms")
    wait_for(browser, "#age-proof")
    assert not browser.find_elements(By.ID, "birth_date")
    alternatives = browser.find_element(By.CSS_SELECTOR, ".age-proof-unsupported")
    assert alternatives.is_displayed() and "This browser cannot ask a wallet for a Proof of Age" in alternatives.text
    assert len(alternatives.find_elements(By.TAG_NAME, "li")) == 3
    assert not browser.find_element(By.ID, "age-proof-button").is_displayed()


def test_with_the_api_the_page_asks_the_wallet_and_the_proof_opens_the_terms(browser: Any, av_server: Any) -> None:
    from selenium.webdriver.common.by import By

    server, issuer = av_server
    origin = f"http://127.0.0.1:{server.port}"
    before_page_scripts(browser, STUB_WALLET)
    browser.get(origin + "/ugc-guard/terms")
    button = wait_for(browser, "#age-proof-button")
    assert button.is_displayed() and not browser.find_element(By.CSS_SELECTOR, ".age-proof-unsupported").is_displayed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "terms-age-proof.png"))

    button.click()  # the script (allowed by script-src 'self') posts for a request (connect-src 'self') and calls the wallet
    request = wait_until(browser, "return window.__walletRequest || null")
    [asked] = request["requests"]
    assert asked["protocol"] == "openid4vp-v1-unsigned"
    assert asked["data"]["dcql_query"]["credentials"][0]["meta"] == {"doctype_value": "eu.europa.ec.av.1"}
    browser.execute_script("window.__walletCancel()")
    status = wait_until(browser, "return document.getElementById('age-proof-status').textContent || null")
    assert status == "Nothing was shared. You can try again."

    button.click()  # a second try gets a new request; this time the wallet answers it
    nonce = wait_until(browser, "const r = window.__walletRequest; return r && r.requests[0].data.nonce !== arguments[0] ? "
                       "r.requests[0].data.nonce : null", asked["data"]["nonce"])  # fmt: skip
    presentation = present(issue(issuer, {"age_over_18": True}), origin=origin, nonce=nonce)
    browser.execute_script("window.__walletAnswer(arguments[0])", {"vp_token": {"proof_of_age": [presentation]}})
    attested = wait_for(browser, "#age-attested")  # the script reloads the page after the proof was recorded
    assert "age group 18+" in attested.text and not browser.find_elements(By.ID, "age-proof")
    browser.find_element(By.ID, "accept_terms").click()
    browser.find_element(By.ID, "accept_licence").click()
    browser.find_element(By.ID, "accept").click()
    wait_for(browser, "#receipt")


def wait_until(driver: Any, script: str, *args: Any) -> Any:
    """Return the first non-null value of ``script`` in the page, polling for up to 30 s."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{script!r} stayed null on {driver.current_url}:\n{driver.page_source[:3000]}")
