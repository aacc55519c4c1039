"""The todo page (interop/browser/todo/app.js) in headless Chromium, over the in-memory
fake-client.js (same API as the real client, the list shared by the tabs of one origin through
localStorage): every page feature, the keyboard, two windows, read-only and offline states."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from todo_page import (
    add,
    build_fake_page,
    chrome,
    open_page,
    row,
    rows,
    serve,
    text_of,
    wait,
    wait_rows,
    wait_set,
)

pytestmark = pytest.mark.interop

SERVER_KEY = "ab" * 32


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    dist = build_fake_page(tmp_path_factory.mktemp("todo-page"))
    with serve(dist, SERVER_KEY) as url:
        yield url


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    d = chrome()
    try:
        yield d
    finally:
        d.quit()


def fresh_url(base: str, query: str = "") -> str:
    return f"{base}/{query}#{os.urandom(32).hex()}"


def pressed(driver: WebDriver) -> list[str]:
    return [
        str(b.get_attribute("aria-pressed")) for b in driver.find_elements(By.CSS_SELECTOR, "[data-filter]")
    ]


def test_add_edit_toggle_delete_clear_and_filter(driver: WebDriver, base_url: str) -> None:
    open_page(driver, fresh_url(base_url))
    assert text_of(driver, "count") == "0 items left"
    for text in ("milk", "bread", "eggs"):
        add(driver, text)
    wait_rows(driver, [("milk", False), ("bread", False), ("eggs", False)])
    assert text_of(driver, "count") == "3 items left"
    assert driver.find_element(By.ID, "new-todo").get_attribute("value") == ""

    # edit by double-click, Enter saves (trimmed by the client)
    ActionChains(driver).double_click(row(driver, "bread").find_element(By.CSS_SELECTOR, ".text")).perform()
    field = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "the editor")
    assert driver.switch_to.active_element == field
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("  rye bread ", Keys.ENTER)
    wait_rows(driver, [("milk", False), ("rye bread", False), ("eggs", False)])
    # edit by button, Escape cancels
    row(driver, "eggs").find_element(By.CSS_SELECTOR, "button.edit").click()
    field = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "the editor")
    field.send_keys(" and ham", Keys.ESCAPE)
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".edit-input"), "the editor to close")
    assert rows(driver) == [("milk", False), ("rye bread", False), ("eggs", False)]

    # the Save and Cancel buttons
    row(driver, "milk").find_element(By.CSS_SELECTOR, "button.edit").click()
    field = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "the editor")
    field.send_keys(" (oat)")
    row(driver, "milk").find_element(By.CSS_SELECTOR, "button.cancel").click()
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".edit-input"), "the editor to close")
    row(driver, "milk").find_element(By.CSS_SELECTOR, "button.edit").click()
    field = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "the editor")
    field.send_keys(" (oat)")
    row(driver, "milk").find_element(By.CSS_SELECTOR, "button.save").click()
    wait_rows(driver, [("milk (oat)", False), ("rye bread", False), ("eggs", False)])
    row(driver, "milk (oat)").find_element(By.CSS_SELECTOR, "button.edit").click()
    field = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "the editor")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("milk", Keys.ENTER)
    wait_rows(driver, [("milk", False), ("rye bread", False), ("eggs", False)])

    # toggle
    row(driver, "milk").find_element(By.CSS_SELECTOR, ".toggle").click()
    wait(driver, lambda d: text_of(d, "count") == "2 items left", "the counter")
    assert "done" in str(row(driver, "milk").get_attribute("class"))
    row(driver, "eggs").find_element(By.CSS_SELECTOR, ".toggle").click()
    wait(driver, lambda d: text_of(d, "count") == "1 item left", "the counter")

    # filters
    assert pressed(driver) == ["true", "false", "false"]
    driver.find_element(By.CSS_SELECTOR, "[data-filter=active]").click()
    wait_rows(driver, [("rye bread", False)])
    assert pressed(driver) == ["false", "true", "false"]
    driver.find_element(By.CSS_SELECTOR, "[data-filter=done]").click()
    wait_rows(driver, [("milk", True), ("eggs", True)])
    assert pressed(driver) == ["false", "false", "true"]
    driver.find_element(By.CSS_SELECTOR, "[data-filter=all]").click()
    wait_rows(driver, [("milk", True), ("rye bread", False), ("eggs", True)])

    # untoggle, delete, clear completed
    row(driver, "eggs").find_element(By.CSS_SELECTOR, ".toggle").click()
    wait(driver, lambda d: text_of(d, "count") == "2 items left", "the counter")
    row(driver, "rye bread").find_element(By.CSS_SELECTOR, "button.delete").click()
    wait_rows(driver, [("milk", True), ("eggs", False)])
    driver.find_element(By.ID, "clear-completed").click()
    wait_rows(driver, [("eggs", False)])
    wait(driver, lambda d: not d.find_element(By.ID, "clear-completed").is_enabled(), "clear disabled")

    # a reload gets the list back
    driver.refresh()
    open_page(driver, driver.current_url)
    assert rows(driver) == [("eggs", False)]


def test_empty_and_too_long_text_and_wrapping(driver: WebDriver, base_url: str) -> None:
    open_page(driver, fresh_url(base_url))
    box = driver.find_element(By.ID, "new-todo")
    box.send_keys("   ", Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "new-error").is_displayed(), "the empty-text error")
    assert "empty" in text_of(driver, "new-error")
    assert box.get_attribute("aria-invalid") == "true"
    assert rows(driver) == []

    # 1366 euro signs are 4098 UTF-8 bytes: too long although only 1366 characters
    too_long = "€" * 1366
    driver.execute_script("document.getElementById('new-todo').value = arguments[0]", too_long)
    box.send_keys(Keys.ENTER)
    wait(driver, lambda d: "too long (max 4096 bytes)" in text_of(d, "new-error"), "the too-long error")
    assert box.get_attribute("value") == too_long  # the text is kept for the user to shorten
    box.send_keys(Keys.BACKSPACE)
    wait(driver, lambda d: not d.find_element(By.ID, "new-error").is_displayed(), "the error to clear")

    # a 1 MiB paste is refused the same way, and the page keeps working
    driver.execute_script("document.getElementById('new-todo').value = 'y'.repeat(1 << 20)")
    box.send_keys(Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "new-error").is_displayed(), "the too-long error")
    assert "too long (max 4096 bytes)" in text_of(driver, "new-error")
    assert rows(driver) == []
    driver.execute_script("document.getElementById('new-todo').value = ''")

    # exactly 4096 bytes is fine; one unbroken word must wrap inside the card
    word = "x" * 4096
    driver.execute_script("document.getElementById('new-todo').value = arguments[0]", word)
    box.send_keys(Keys.ENTER)
    wait_rows(driver, [(word, False)])
    overflow = driver.execute_script(
        "const li = document.querySelector('#todo-list li.todo');"
        "const card = document.querySelector('.app').getBoundingClientRect();"
        "const r = li.querySelector('.text').getBoundingClientRect();"
        "return {doc: document.documentElement.scrollWidth - document.documentElement.clientWidth,"
        " right: r.right - card.right, height: r.height}"
    )
    assert overflow["doc"] <= 0 and overflow["right"] <= 0, overflow
    assert overflow["height"] > 100, overflow  # it wrapped onto many lines

    # editing to empty shows the error in the row and keeps the editor open
    row(driver, word).find_element(By.CSS_SELECTOR, "button.edit").click()
    field = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "the editor")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE, Keys.ENTER)
    err = row(driver, word).find_element(By.CSS_SELECTOR, ".item-error")
    wait(driver, lambda d: err.is_displayed(), "the row's error")
    assert "empty" in str(err.get_attribute("textContent"))
    assert driver.find_elements(By.CSS_SELECTOR, ".edit-input")
    field.send_keys(Keys.ESCAPE)
    wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, ".edit-input"), "the editor to close")
    assert rows(driver) == [(word, False)]


def focused(driver: WebDriver) -> str:
    desc: str = driver.execute_script(
        "const e = document.activeElement;return e.id || e.className || e.tagName"
    )
    return desc


def test_keyboard_only(driver: WebDriver, base_url: str) -> None:
    open_page(driver, fresh_url(base_url))
    keys = ActionChains(driver)
    wait(driver, lambda d: focused(d) == "new-todo", "the input to have the focus")
    keys.send_keys("walk the dog", Keys.ENTER).perform()
    wait_rows(driver, [("walk the dog", False)])
    ActionChains(driver).send_keys("feed the cat", Keys.ENTER).perform()
    wait_rows(driver, [("walk the dog", False), ("feed the cat", False)])
    assert focused(driver) == "new-todo"

    def tab_to(cls: str) -> None:
        for _ in range(6):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            if focused(driver) == cls:
                return
        raise AssertionError(f"Tab never reached {cls}; at {focused(driver)}")

    tab_to("toggle")  # the first row's checkbox
    outline = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    ActionChains(driver).send_keys(Keys.SPACE).perform()
    wait_rows(driver, [("walk the dog", True), ("feed the cat", False)])
    tab_to("edit")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait(driver, lambda d: focused(d) == "edit-input", "the editor to take the focus")
    ActionChains(driver).send_keys(" twice", Keys.ENTER).perform()
    wait_rows(driver, [("walk the dog twice", True), ("feed the cat", False)])
    assert focused(driver) == "edit"  # back on the row's Edit button
    ActionChains(driver).send_keys(Keys.TAB).perform()
    assert focused(driver) == "delete"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait_rows(driver, [("feed the cat", False)])
    assert focused(driver) == "toggle"  # the focus moved to the next row, not lost

    # every control has an accessible name
    unnamed = driver.execute_script(
        "return [...document.querySelectorAll('input, button')].filter(e =>"
        " !(e.getAttribute('aria-label') || (e.labels && e.labels.length) || e.textContent.trim()))"
        ".map(e => e.outerHTML)"
    )
    assert unnamed == []
    assert driver.find_element(By.ID, "status").get_attribute("aria-live") == "polite"


def test_two_windows_converge_and_keep_the_editor(driver: WebDriver, base_url: str) -> None:
    url = fresh_url(base_url)
    open_page(driver, url)
    first = driver.current_window_handle
    driver.switch_to.new_window("window")
    second = driver.current_window_handle
    try:
        open_page(driver, url)
        add(driver, "from B")
        wait_rows(driver, [("from B", False)])
        driver.switch_to.window(first)
        wait_rows(driver, [("from B", False)], "B's todo in A")
        add(driver, "from A")
        row(driver, "from B").find_element(By.CSS_SELECTOR, ".toggle").click()
        order = wait_set(driver, [("from B", True), ("from A", False)])
        driver.switch_to.window(second)
        wait_rows(driver, order, "A's changes in B, in the same order")

        # B edits "from A" while A changes the list: B's editor keeps its draft and focus
        row(driver, "from A").find_element(By.CSS_SELECTOR, "button.edit").click()
        field = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".edit-input"), "B's editor")
        field.send_keys(" (draft)")
        driver.switch_to.window(first)
        add(driver, "third")
        row(driver, "from B").find_element(By.CSS_SELECTOR, ".toggle").click()
        order = wait_set(driver, [("from B", False), ("from A", False), ("third", False)])
        driver.switch_to.window(second)
        wait_rows(driver, order, "A's changes in B")
        field = driver.find_element(By.CSS_SELECTOR, ".edit-input")
        assert field.get_attribute("value") == "from A (draft)"
        assert focused(driver) == "edit-input"
        field.send_keys(Keys.ENTER)
        order = [(("from A (draft)" if text == "from A" else text), done) for text, done in order]
        wait_rows(driver, order)
        driver.switch_to.window(first)
        wait_rows(driver, order, "B's edit in A")

        # A deletes the todo B is editing: B's editor closes and says why
        driver.switch_to.window(second)
        row(driver, "third").find_element(By.CSS_SELECTOR, "button.edit").click()
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".edit-input"), "B's editor")
        driver.switch_to.window(first)
        row(driver, "third").find_element(By.CSS_SELECTOR, "button.delete").click()
        left = [r for r in order if r[0] != "third"]
        wait_rows(driver, left)
        driver.switch_to.window(second)
        wait_rows(driver, left, "the delete in B")
        assert not driver.find_elements(By.CSS_SELECTOR, ".edit-input")
        wait(driver, lambda d: "deleted" in text_of(d, "announce"), "B to be told")
    finally:
        driver.switch_to.window(second)
        driver.close()
        driver.switch_to.window(first)


def test_read_only_banner_and_offline_indicator(driver: WebDriver, base_url: str) -> None:
    open_page(driver, fresh_url(base_url, "?writable=0&peers=0&connection=connecting"))
    banner = driver.find_element(By.ID, "readonly")
    assert banner.is_displayed()
    assert "read-only, waiting to be added" in banner.text
    assert not driver.find_element(By.ID, "new-todo").is_enabled()
    assert not driver.find_element(By.ID, "add").is_enabled()
    assert text_of(driver, "connection") == "connecting"
    assert text_of(driver, "peers") == "0 peers"

    driver.execute_script("fakeTodo.setStatus({connection: 'online', peers: 1, writable: true})")
    wait(driver, lambda d: not banner.is_displayed(), "the banner to go")
    assert driver.find_element(By.ID, "new-todo").is_enabled()
    assert text_of(driver, "connection") == "online"
    assert text_of(driver, "peers") == "1 peer"
    add(driver, "written once added")
    wait_rows(driver, [("written once added", False)])

    driver.execute_script("fakeTodo.setStatus({connection: 'offline', peers: 0})")
    wait(driver, lambda d: text_of(d, "connection") == "offline", "the offline indicator")
    assert driver.find_element(By.ID, "connection").get_attribute("data-state") == "offline"
    add(driver, "written offline")  # the page keeps working locally
    wait_rows(driver, [("written once added", False), ("written offline", False)])

    # a writer removed again: controls disabled, the row's buttons too
    driver.execute_script("fakeTodo.setStatus({connection: 'online', peers: 3, writable: false})")
    wait(driver, lambda d: banner.is_displayed(), "the banner to return")
    assert text_of(driver, "peers") == "3 peers"
    assert not row(driver, "written offline").find_element(By.CSS_SELECTOR, ".toggle").is_enabled()
    assert not row(driver, "written offline").find_element(By.CSS_SELECTOR, "button.delete").is_enabled()


def test_key_from_server_and_invite_link(driver: WebDriver, base_url: str) -> None:
    open_page(driver, base_url + "/")
    assert driver.current_url.endswith("#" + SERVER_KEY)
    invite = driver.find_element(By.ID, "invite-link")
    assert invite.get_attribute("value") == f"{base_url}/#{SERVER_KEY}"
    # with a clipboard API the link is written there
    driver.execute_script(
        "Object.defineProperty(navigator, 'clipboard', {configurable: true,"
        " value: {writeText: async (t) => { window.copied = t }}})"
    )
    driver.find_element(By.ID, "copy-invite").click()
    wait(driver, lambda d: text_of(d, "copy-note") == "Invite link copied.", "the copy note")
    assert driver.execute_script("return window.copied") == f"{base_url}/#{SERVER_KEY}"
    # without a clipboard API the link is selected for the user to copy
    driver.execute_script("document.getElementById('copy-note').textContent = ''")
    driver.execute_script(
        "Object.defineProperty(navigator, 'clipboard', {configurable: true, value: undefined})"
    )
    driver.find_element(By.ID, "copy-invite").click()
    wait(driver, lambda d: text_of(d, "copy-note") != "", "the copy note")
    assert focused(driver) == "invite-link"
    selected = driver.execute_script(
        "const e = document.activeElement; return e.value.slice(e.selectionStart, e.selectionEnd)"
    )
    assert selected == f"{base_url}/#{SERVER_KEY}"


def test_bad_key_in_link_is_reported(driver: WebDriver, base_url: str) -> None:
    driver.get(base_url + "/#not-a-key")
    wait(driver, lambda d: d.execute_script("return document.body.dataset.ready") == "error", "the error")
    assert "64 hex" in driver.find_element(By.ID, "fatal").text
    assert text_of(driver, "connection") == "offline"


def test_screenshot_two_pages_side_by_side(driver: WebDriver, base_url: str, tmp_path: Path) -> None:
    key = os.urandom(32).hex()
    frame = tmp_path / "frames.html"
    page = f"{base_url}/#{key}"
    driver.set_window_size(1400, 900)
    try:
        open_page(driver, page)
        for text in ("buy oat milk", "fix the bike light", "call grandma back"):
            add(driver, text)
        row(driver, "fix the bike light").find_element(By.CSS_SELECTOR, ".toggle").click()
        wait(driver, lambda d: text_of(d, "count") == "2 items left", "the counter")
        frame.write_text(
            "<!doctype html><body style='margin:0;display:flex'>"
            f"<iframe src='{page}' style='border:0;width:50%;height:100vh'></iframe>"
            f"<iframe src='{page}' style='border:0;width:50%;height:100vh;border-left:2px solid #ccc'>"
            "</iframe></body>"
        )
        # the frames page has to come from the same origin as the todo page to share its storage
        driver.execute_script(
            "document.open(); document.write(arguments[0]); document.close()", frame.read_text()
        )
        wait(
            driver,
            lambda d: d.execute_script(
                "return [...document.querySelectorAll('iframe')].every(f =>"
                " f.contentDocument && f.contentDocument.querySelectorAll('li.todo').length === 3)"
            ),
            "both frames to show the list",
        )
        shot = tmp_path / "todo-fake.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        target = os.environ.get("TODO_SCREENSHOT")
        if target:
            Path(target).write_bytes(shot.read_bytes())
    finally:
        driver.set_window_size(900, 900)
