"""The wallboard page in a real browser (headless Chromium through selenium) against
the sandbox: a supervisor signs in with a token, a simulated citizen joins the
complaint queue and shows on the page within 2 s of Asterisk's join, hangs up and
goes; the supervisor pauses an agent by clicking (with the confirmation) and
Asterisk's own ``queue show`` says it is paused. Screenshots of the page at
1920×1080 and 1366×768 are written to ``var/screenshots/`` for a person to look at."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from ivr.ami.client import AmiClient
from ivr.app import HotlineApp
from ivr.config import PROJECT_ROOT, Settings
from ivr.privacy import mask_phone
from ivr.sandbox.pbx import Sandbox
from ivr.store.tokens import TokenStore
from tests.integration.conftest import SimCaller, call  # noqa: F401  (fixture)
from tests.integration.test_queue_waiting import quiet_queue  # noqa: F401  (fixture)

pytestmark = pytest.mark.sandbox

QUEUE = "complaint"
AGENT = "PJSIP/agent1"
CALLER = "0812345678"
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
SIZES = [(1920, 1080), (1366, 768)]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, redis_url=settings.redis_url.rsplit("/", 1)[0] + "/10")


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "Debian's chromium and chromium-driver are absent (scripts/test.sh installs them)"
        )
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--lang=th-TH")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def resize(driver: WebDriver, width: int, height: int) -> None:
    """The page's viewport exactly ``width`` × ``height`` (what a screen of that size shows)."""
    driver.set_window_size(width, height)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def wait(driver: WebDriver, within: float, cond: Callable[[WebDriver], Any], what: str) -> Any:
    """``cond``'s first true result; an element re-rendered meanwhile is looked up again."""
    return WebDriverWait(
        driver,
        within,
        poll_frequency=0.05,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    ).until(cond, f"not within {within} s: {what}")


def text_of(driver: WebDriver, css: str) -> str:
    """The text of the element at ``css`` now (read in one step: the board re-renders)."""
    text = driver.execute_script("return document.querySelector(arguments[0])?.innerText", css)
    return str(text or "")


def click(driver: WebDriver, css: str, what: str) -> None:
    """Click the element at ``css`` as soon as it is there (looked up afresh each try)."""

    def clicked(d: WebDriver) -> bool:
        d.find_element(By.CSS_SELECTOR, css).click()
        return True

    wait(driver, 10, clicked, what)


def bangkok_years() -> set[str]:
    """This year in the Buddhist era, in Bangkok (both, a minute either side of New Year)."""
    now = datetime.now(ZoneInfo("Asia/Bangkok"))
    return {str((now + timedelta(minutes=m)).year + 543) for m in (-1, 1)}


def sign_in(driver: WebDriver, url: str, token: str) -> None:
    """Sign in with a wrong token (refused with the reason), then with ``token``."""
    resize(driver, *SIZES[0])
    driver.get(url)
    field = wait(driver, 10, ec.visibility_of_element_located((By.ID, "token")), "the token form")
    field.send_keys("ivr_not-a-token")
    driver.find_element(By.ID, "login-submit").click()
    error = wait(driver, 10, ec.visibility_of_element_located((By.ID, "login-error")), "refusal")
    assert "unknown or revoked" in error.text
    field.send_keys(token)
    driver.find_element(By.ID, "login-submit").click()
    wait(
        driver,
        10,
        lambda d: (
            d.find_element(By.ID, "status").get_attribute("data-state") == "live"
            and d.find_elements(By.CSS_SELECTOR, f'article.queue[data-queue="{QUEUE}"]')
        ),
        "the live stream and the complaint queue on the page",
    )
    assert "token" not in driver.current_url  # never in the URL
    assert driver.execute_script("return document.cookie") == ""
    date = driver.find_element(By.ID, "date").text  # Thai style: 29 พ.ย. 2569
    assert re.search(r"\d{1,2} \S+\. (\d{4})$", date) and date[-4:] in bangkok_years(), date


def caller_row(uniqueid: str) -> str:
    return f'article.queue[data-queue="{QUEUE}"] li.caller[data-uniqueid="{uniqueid}"]'


def agent_row(agent: str) -> str:
    return f'article.queue[data-queue="{QUEUE}"] li.agent[data-agent="{agent}"]'


def screenshots(driver: WebDriver) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        resize(driver, width, height)
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(SCREENSHOTS / f"wallboard-{width}x{height}.png"))
    resize(driver, *SIZES[0])


def pause_by_clicking(driver: WebDriver) -> None:
    """Click the agent's pause button, choose a reason, confirm; the row shows it paused."""
    click(driver, f'{agent_row(AGENT)} button[data-action="pause"]', "agent1's pause button")
    wait(driver, 5, ec.visibility_of_element_located((By.ID, "confirm")), "the confirmation")
    Select(driver.find_element(By.ID, "confirm-choice")).select_by_value("training")
    driver.find_element(By.ID, "confirm-ok").click()
    wait(driver, 10, ec.invisibility_of_element_located((By.ID, "confirm")), "the dialog closed")
    wait(
        driver,
        10,
        lambda d: (
            "agent-paused"
            in (d.find_element(By.CSS_SELECTOR, agent_row(AGENT)).get_attribute("class") or "")
        ),
        "agent1 shown paused",
    )


def switch_to_english(driver: WebDriver) -> None:
    driver.find_element(By.ID, "lang").click()
    wait(driver, 5, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Hotline"), "English")
    paused = text_of(driver, f"{agent_row(AGENT)} .agent-state")
    assert paused == "Paused · Training", paused
    driver.find_element(By.ID, "lang").click()  # back to Thai
    wait(driver, 5, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "สายด่วน"), "Thai")


def agent_line(sandbox: Sandbox) -> str:
    """agent1's line in Asterisk's own ``queue show complaint``."""
    out = sandbox.cli(f"queue show {QUEUE}")
    return next((line for line in out.splitlines() if AGENT in line), "")


async def test_supervisor_watches_and_acts_on_the_wallboard(
    app: HotlineApp,
    ami: AmiClient,
    sandbox: Sandbox,
    call: SimCaller,  # noqa: F811
    quiet_queue: list[str],  # noqa: F811
    browser: WebDriver,
) -> None:
    token, _ = await TokenStore(app.redis).create("supervisor", "wall screen")
    assert app._http is not None
    host, port = app._http.addresses[0][:2]
    await asyncio.to_thread(sign_in, browser, f"http://{host}:{port}/", token)

    joined = asyncio.ensure_future(
        ami.wait_event(lambda e: e.name == "QueueCallerJoin" and e.get("Queue") == QUEUE, 60)
    )
    c = await call("1111", "2", keep=True, caller=CALLER, until=lambda c: bool(c.queue))
    try:
        await joined
        joined_at = time.monotonic()
        row = caller_row(c.uniqueid)
        await asyncio.to_thread(
            wait, browser, 2.0, ec.presence_of_element_located((By.CSS_SELECTOR, row)), "the caller"
        )
        assert time.monotonic() - joined_at < 2.0
        number = text_of(browser, f"{row} .number")
        assert number == mask_phone(CALLER) != CALLER  # masked for a supervisor
        await asyncio.to_thread(screenshots, browser)
    finally:
        await ami.action("Hangup", Channel=c.channel)
    await asyncio.to_thread(
        wait,
        browser,
        10,
        ec.invisibility_of_element_located((By.CSS_SELECTOR, caller_row(c.uniqueid))),
        "the caller gone",
    )

    # the line is empty: agent1 may take calls again, and the supervisor pauses it
    await ami.action("QueuePause", Interface=AGENT, Queue=QUEUE, Paused="false")
    await asyncio.to_thread(pause_by_clicking, browser)
    line = await asyncio.to_thread(agent_line, sandbox)
    assert "paused" in line.lower(), line
    assert "training" in line, line
    await asyncio.to_thread(switch_to_english, browser)
