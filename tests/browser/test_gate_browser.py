"""Issue 4 in a real browser: home → terms and age first → accept → upload; and 16–17 through a guardian."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.browser
SHOTS = REPO / "docs" / "screenshots"


def png_file(folder: Path) -> Path:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, "PNG")
    path = folder / "selfie.png"
    path.write_bytes(buffer.getvalue())
    return path


def wait_for(driver: Any, css: str) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, 30).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))
    except TimeoutException:
        raise AssertionError(f"{css} never appeared on {driver.current_url}:\n{driver.page_source[:3000]}") from None


def click_and_wait(driver: Any, element: Any) -> None:
    """Click ``element`` and wait until the page it loads has replaced this one (a click does not wait).

    The old page carries a mark in its ``window``; a new document starts without it. (Waiting for an
    old element to go stale can meet Chromium's "node does not belong to the document" mid-navigation.)
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.__ugcOldPage = true")
    element.click()

    def loaded(current: Any) -> bool:
        return bool(current.execute_script("return window.__ugcOldPage === undefined && document.readyState === 'complete'"))

    WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(loaded)


def fill_upload_form(driver: Any, image: Path) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "media").send_keys(str(image))
    for checkbox in driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox]"):
        if not checkbox.is_selected():
            checkbox.click()
    driver.find_element(By.CSS_SELECTOR, "input[name=ugc_portrait_others][value=none]").click()
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/upload'] button[type=submit]"))


def accept_terms(driver: Any, birth_date: str, guardian_email: str | None = None) -> None:
    from selenium.webdriver.common.by import By

    year, month, day = birth_date.split("-")
    for part, value in (("day", day), ("month", month), ("year", year)):  # typed as a person would, the same in every browser
        driver.find_element(By.ID, f"birth_{part}").send_keys(str(int(value)))
    if guardian_email:
        driver.find_element(By.ID, "guardian_email").send_keys(guardian_email)
    terms_box = driver.find_element(By.ID, "accept_terms")
    assert not terms_box.is_selected()  # unticked by default
    terms_box.click()
    driver.find_element(By.ID, "accept_licence").click()
    click_and_wait(driver, driver.find_element(By.ID, "accept"))


def assert_past_the_gate(driver: Any) -> None:
    """The upload went through the gate (and screening) to the example app, not back to the terms page."""
    from selenium.webdriver.common.by import By

    wait_for(driver, "body")
    assert driver.current_url.endswith("/upload"), driver.current_url
    assert not driver.find_elements(By.ID, "accept"), "sent back to the terms page"
    assert "we received your file" in driver.page_source, driver.page_source[:2000]
    driver.find_element(By.TAG_NAME, "summary").click()  # the JSON is folded under the receipt in words
    receipt = json.loads(driver.find_element(By.TAG_NAME, "pre").text)  # the signed receipt the uploader can keep
    main = receipt["entries"][0]
    assert main["kind"] == "submission" and len(main["hash"]) == 64 and main["position"] >= 1 and receipt["signature"]
    assert driver.find_element(By.PARTIAL_LINK_TEXT, "Download your receipt").get_attribute("download").startswith("receipt-")


def test_adult_upload_flow(browser: Any, server_factory: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server = server_factory("onscreen.yaml")
    base = f"http://localhost:{server.port}"
    image = png_file(tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(base + "/")
    wait_for(browser, "#start")  # the terms and age step comes first: no file field yet, so no file to lose
    assert not browser.find_elements(By.ID, "media") and "On Screen Now" in browser.title
    browser.save_screenshot(str(SHOTS / "home-start.png"))
    browser.find_element(By.ID, "start").click()
    wait_for(browser, "#accept")
    assert "/ugc-guard/terms" in browser.current_url and "next=" in browser.current_url
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "en"
    # keyboard: the terms checkbox is reachable by tabbing from the top of the page
    body = browser.find_element(By.TAG_NAME, "body")
    reached = []
    for _ in range(40):
        body.send_keys(Keys.TAB)
        reached.append(browser.switch_to.active_element.get_attribute("id"))
        if reached[-1] == "accept_terms":
            break
    assert reached[-1] == "accept_terms", reached
    browser.save_screenshot(str(SHOTS / "terms-en.png"))
    browser.get(base + "/ugc-guard/terms?lang=nl&next=/")
    wait_for(browser, "#accept")
    assert browser.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "nl"
    browser.save_screenshot(str(SHOTS / "terms-nl.png"))
    accept_terms(browser, "1990-05-17")
    wait_for(browser, "#media")
    assert browser.current_url.rstrip("/") == base
    fill_upload_form(browser, image)
    assert_past_the_gate(browser)
    browser.save_screenshot(str(SHOTS / "upload-receipt.png"))
    browser.get(base + "/ugc-guard/terms")
    receipt = wait_for(browser, "#receipt")
    assert receipt.is_displayed()
    browser.save_screenshot(str(SHOTS / "receipt.png"))


def test_minor_with_guardian_flow(browser: Any, server_factory: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = server_factory("casting.yaml")
    base = f"http://casting.localhost:{server.port}"
    seventeen = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()
    browser.get(base + "/ugc-guard/terms?lang=en")
    wait_for(browser, "#accept")
    accept_terms(browser, seventeen, guardian_email="parent@example.org")
    wait_for(browser, "#receipt")  # no next given: back on the terms page, which shows the receipt
    assert "Waiting for your parent or guardian" in browser.page_source
    assert "once your parent or guardian has confirmed" in browser.page_source  # one guardian: no "parent(s)"
    browser.get(base + "/")
    image = png_file(tmp_path)
    waiting = wait_for(browser, "#waiting")  # no file field until the guardian confirmed
    assert "once your parent or guardian has confirmed" in waiting.text and not browser.find_elements(By.ID, "media")
    assert "Open Casting Northlight" in browser.title and "On Screen Now" not in browser.page_source
    match = re.search(r"(http://\S+/ugc-guard/guardian/confirm\?token=[A-Za-z0-9_-]+)", server.log())
    assert match is not None, server.log()
    # the parent opens the link on their own device: not with the minor's session (issue 17 refuses that)
    minors_cookies = browser.get_cookies()
    browser.delete_all_cookies()
    browser.get(match.group(1).replace("http://casting.localhost", base) if f":{server.port}" not in match.group(1) else match.group(1))
    wait_for(browser, "#confirm")
    browser.save_screenshot(str(SHOTS / "guardian-confirm.png"))
    browser.find_element(By.ID, "guardian_name").send_keys("Sam de Vries")
    Select(browser.find_element(By.ID, "relationship")).select_by_value("parent")
    browser.find_element(By.ID, "g_accept_terms").click()
    browser.find_element(By.ID, "g_accept_licence").click()
    click_and_wait(browser, browser.find_element(By.ID, "confirm"))
    wait_for(browser, "#receipt")
    browser.delete_all_cookies()  # back on the minor's device
    for cookie in minors_cookies:
        browser.add_cookie({key: cookie[key] for key in ("name", "value", "path", "httpOnly") if key in cookie})
    browser.get(base + "/")
    wait_for(browser, "#media")
    fill_upload_form(browser, image)
    assert_past_the_gate(browser)
