"""Issue 13 in a real browser: the visitor's pages by keyboard alone, every error at once, /me in both
languages with readable dates, the under-age page, and an accessibility check of each page."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from .checks import accessibility_problems, axe_source
from .test_gate_browser import SHOTS, accept_terms, assert_past_the_gate, click_and_wait, fill_upload_form, png_file, wait_for

pytestmark = pytest.mark.browser
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def press(driver: Any, *keys: str) -> None:
    """Press keys on whatever has the focus (as a keyboard would: no element is clicked)."""
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def tab_to(driver: Any, element_id: str, *, limit: int = 80) -> None:
    """Press Tab until the element with ``element_id`` has the focus."""
    from selenium.webdriver.common.keys import Keys

    reached = []
    for _ in range(limit):
        press(driver, Keys.TAB)
        reached.append(driver.switch_to.active_element.get_attribute("id") or driver.switch_to.active_element.tag_name)
        if reached[-1] == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}: {reached}")


def assert_accessible(driver: Any) -> None:
    problems = accessibility_problems(driver)
    assert problems == [], f"{driver.current_url}:\n" + "\n".join(problems)


def test_keyboard_only_terms_accept_upload(browser: Any, server_factory: Any, tmp_path: Path) -> None:
    """Tab, Enter and Space only: start → terms (typed date of birth, both boxes) → accept → the file → upload."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    server = server_factory("onscreen.yaml")
    base = f"http://localhost:{server.port}"
    browser.get(base + "/")
    wait_for(browser, "#start")
    assert_accessible(browser)
    tab_to(browser, "start")
    press(browser, Keys.ENTER)
    wait_for(browser, "#accept")
    assert_accessible(browser)
    tab_to(browser, "birth_day")
    press(browser, "17", Keys.TAB, "5", Keys.TAB, "1990")
    tab_to(browser, "accept_terms")
    press(browser, Keys.SPACE)
    tab_to(browser, "accept_licence")
    press(browser, Keys.SPACE)
    tab_to(browser, "accept")
    press(browser, Keys.ENTER)
    wait_for(browser, "#media")  # back home, now with the file field
    assert browser.current_url.rstrip("/") == base
    assert_accessible(browser)
    tab_to(browser, "media")
    # choosing a file opens the system dialog, which no page can drive: WebDriver types the path into the field
    browser.switch_to.active_element.send_keys(str(png_file(tmp_path)))
    for name in ("ugc_licence", "ugc_portrait_self"):
        press(browser, Keys.TAB)
        assert browser.switch_to.active_element.get_attribute("name") == name
        press(browser, Keys.SPACE)
    press(browser, Keys.TAB)  # the first radio of the group, chosen with Space
    assert browser.switch_to.active_element.get_attribute("value") == "none"
    press(browser, Keys.SPACE, Keys.TAB)
    assert browser.switch_to.active_element.tag_name == "button"
    press(browser, Keys.ENTER)
    wait_for(browser, "details summary")  # the receipt page (a key press does not wait for the page it loads)
    assert_past_the_gate(browser)
    assert_accessible(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "input[type=file]") == []


def test_every_error_at_once_with_aria_invalid(browser: Any, server_factory: Any) -> None:
    from selenium.webdriver.common.by import By

    server = server_factory("casting.yaml")
    base = f"http://casting.localhost:{server.port}"
    browser.get(base + "/ugc-guard/terms?lang=en")
    wait_for(browser, "#accept")
    for part, value in (("day", "31"), ("month", "2"), ("year", "2001")):
        browser.find_element(By.ID, f"birth_{part}").send_keys(value)
    browser.find_element(By.ID, "guardian_email").send_keys("not an address")
    click_and_wait(browser, browser.find_element(By.ID, "accept"))
    summary = wait_for(browser, "#errors")
    links = summary.find_elements(By.TAG_NAME, "a")
    targets = [link.get_attribute("href").rsplit("#", 1)[1] for link in links]
    assert targets == ["accept_terms", "accept_licence", "birth_day", "guardian_email"], summary.text  # the address too, though the age is unknown
    assert "That date does not exist" in summary.text and "Tick the box to accept the terms." in summary.text
    for field in ("accept_terms", "accept_licence"):
        element = browser.find_element(By.ID, field)
        assert element.get_attribute("aria-invalid") == "true"
        message = browser.find_element(By.ID, element.get_attribute("aria-describedby").split()[0])
        assert message.text in summary.text and message.is_displayed()
    group = browser.find_element(By.ID, "birth_date")
    assert "birth_day-error" in group.get_attribute("aria-describedby").split()
    assert all(browser.find_element(By.ID, f"birth_{part}").get_attribute("aria-invalid") == "true" for part in ("day", "month", "year"))
    # what was typed is still there, the boxes are not ticked for the person
    assert [browser.find_element(By.ID, f"birth_{part}").get_attribute("value") for part in ("day", "month", "year")] == ["31", "2", "2001"]
    assert not browser.find_element(By.ID, "accept_terms").is_selected()
    links[0].click()  # the summary's link moves the focus to its field
    assert browser.switch_to.active_element.get_attribute("id") == "accept_terms"
    browser.save_screenshot(str(SHOTS / "terms-errors.png"))
    assert_accessible(browser)
    # a minor's date: the guardian address is still wrong, and now the only error
    seventeen = dt.date.today() - dt.timedelta(days=17 * 366)
    for part, value in (("day", seventeen.day), ("month", seventeen.month), ("year", seventeen.year)):
        browser.find_element(By.ID, f"birth_{part}").clear()
        browser.find_element(By.ID, f"birth_{part}").send_keys(str(value))
    browser.find_element(By.ID, "accept_terms").click()
    browser.find_element(By.ID, "accept_licence").click()
    click_and_wait(browser, browser.find_element(By.ID, "accept"))  # the page with the errors again: wait for the new one
    summary = wait_for(browser, "#errors")
    assert [link.get_attribute("href").rsplit("#", 1)[1] for link in summary.find_elements(By.TAG_NAME, "a")] == ["guardian_email"]
    email = browser.find_element(By.ID, "guardian_email")
    assert email.get_attribute("aria-invalid") == "true" and email.get_attribute("value") == "not an address"
    assert email.get_attribute("aria-describedby").split() == ["guardian_email-error", "guardian_hint"]


def test_under_age_page_explains_and_links_back(browser: Any, server_factory: Any) -> None:
    from selenium.webdriver.common.by import By

    server = server_factory("onscreen.yaml")
    base = f"http://localhost:{server.port}"
    browser.get(base + "/ugc-guard/terms?next=/")
    wait_for(browser, "#accept")
    accept_terms(browser, (dt.date.today() - dt.timedelta(days=12 * 366)).isoformat())
    back = wait_for(browser, "#back")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "You cannot take part yet" in text and "aged 18 or older" in text and "parent or guardian cannot accept for you" in text
    assert "Nothing about you was recorded." in text
    browser.save_screenshot(str(SHOTS / "under-age.png"))
    assert_accessible(browser)
    click_and_wait(browser, back)
    wait_for(browser, "#start")
    assert browser.current_url.rstrip("/") == base


def test_me_page_readable_dates_and_language_switch_both_ways(browser: Any, server_factory: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    server = server_factory("onscreen.yaml")
    base = f"http://localhost:{server.port}"
    browser.get(base + "/ugc-guard/terms?next=/")
    wait_for(browser, "#accept")
    accept_terms(browser, "1990-05-17")
    wait_for(browser, "#media")
    fill_upload_form(browser, png_file(tmp_path))
    assert_past_the_gate(browser)
    assert not ISO_TIME.search(browser.find_element(By.TAG_NAME, "ul").text)  # the receipt in words, times readable
    browser.get(base + "/ugc-guard/me?lang=en")
    wait_for(browser, "#accepted-heading")
    main = browser.find_element(By.TAG_NAME, "main").text
    today = dt.datetime.now(dt.UTC)
    english = re.compile(rf"{today:%B} {today.day}, {today.year}, \d{{1,2}}:\d{{2}}:\d{{2}}\s[AP]M UTC")  # Babel's long format, no microseconds
    assert len(english.findall(main)) == 2 and not ISO_TIME.search(main), main  # the acceptance and the file
    assert "Terms version 2026-11 (English)" in main
    browser.save_screenshot(str(SHOTS / "me-en.png"))
    assert_accessible(browser)
    nav = browser.find_element(By.CSS_SELECTOR, "nav.lang")
    assert nav.find_element(By.CSS_SELECTOR, "[aria-current=true]").text == "English"
    click_and_wait(browser, nav.find_element(By.LINK_TEXT, "Nederlands"))
    wait_for(browser, "html[lang=nl]")
    main = browser.find_element(By.TAG_NAME, "main").text
    dutch_months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"]
    dutch = re.compile(rf"{today.day} {dutch_months[today.month - 1]} {today.year}, \d{{2}}:\d{{2}}:\d{{2}} UTC")
    assert len(dutch.findall(main)) == 2 and not ISO_TIME.search(main), main
    assert "Voorwaarden versie 2026-11 (English)" in main  # a language is named in its own words
    browser.save_screenshot(str(SHOTS / "me-nl.png"))
    assert_accessible(browser)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "nav.lang").find_element(By.LINK_TEXT, "English"))  # and back
    wait_for(browser, "html[lang=en]")
    assert "What you accepted" in browser.page_source


def test_axe_core_is_used_where_npm_installs_it() -> None:
    """Say which check ran: axe-core when npm could install it here, else only our own check (never silently)."""
    import shutil

    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: only the built-in label and contrast check runs")
    source = axe_source()
    assert source is not None, "npm is installed but could not install axe-core"
    assert len(source) > 100_000 and "axe-core" in source
