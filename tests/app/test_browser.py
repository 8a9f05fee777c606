"""The real thing: the app served by Streamlit, driven in headless Chromium (Debian's package,
never a downloaded browser). Tours every page as each demo role (a full-page screenshot of each
as test-artifacts/screenshots/ROLE-PAGE.png), failing on any exception and on developer text a
person should never read; follows the three-click path from the overview to a system's fixes.

One server per test module (per xdist worker), one browser per role."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.users import DEMO_PASSWORDS, ROLES, demo_users
from storage import get_engine
from tests.app.conftest import demo_users_file

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
NAV = [("Overview", "overview"), ("Domains, groups, teams", "units"), ("System", "system"), ("Rules", "rules"),
       ("Reviews and waivers", "reviews"), ("Capacity", "capacity"), ("Performance tests", "perftests"),
       ("Flash sales", "flashsales"), ("Season", "season")]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served_app(full_demo, tmp_path_factory):
    """The dashboard on a free loopback port against the full demo (every context's data), one
    server for the module's tests: they only read, and starting one costs several seconds."""
    demo_db, histories = full_demo
    tmp_path = tmp_path_factory.mktemp("served-app")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium (apt-get install -y chromium)")
    port = _free_port()
    users_file = demo_users_file(demo_db, tmp_path)  # as `make app` writes it
    env = dict(os.environ, PEAK_DATABASE_URL=demo_db, PEAK_APP_USERS_FILE=str(users_file),
               KAPACITY_HISTORY_DIR=str(histories))
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app" / "main.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


IDLE = """() => !document.querySelector(
    '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"], [data-stale="true"], [data-testid="stSkeleton"]')"""


def _wait_idle(page, timeout: float = 90_000, settle: int = 800) -> None:
    """Wait until Streamlit has finished the script run and nothing on the page is stale."""
    for _ in range(2):  # idle twice, a moment apart: a rerun may start right after the first
        page.wait_for_timeout(settle)
        page.wait_for_function(IDLE, timeout=timeout)


FULL_HEIGHT = """() => Math.max(document.body.scrollHeight,
    ...['stMain', 'stMainBlockContainer', 'stAppViewContainer'].map(
        id => (document.querySelector(`[data-testid="${id}"]`) || {scrollHeight: 0}).scrollHeight))"""


def _shot(page, path: Path) -> None:
    """A screenshot of the whole page. Streamlit scrolls inside its main container, so Chromium's
    full-page capture alone stops at the window: the window grows to the content, then shrinks back."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], page.evaluate(FULL_HEIGHT))})
    _wait_idle(page, settle=300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def _logout(page) -> None:
    """Log out and wait until the browser has dropped the re-login cookie: the
    authenticator deletes it from a component after the rerun, so navigating at
    once could log the previous user straight back in."""
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("textbox", name="User name").wait_for(timeout=90_000)
    for _ in range(150):
        if not any(c["name"] == "peak_readiness_auth" and c["value"] for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the login cookie is still set 30 s after logging out")


def _login(page, base: str, username: str, password: str) -> None:
    page.goto(base)
    page.get_by_role("textbox", name="User name").wait_for(timeout=90_000)
    page.get_by_role("textbox", name="User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Company score", exact=True).first.wait_for(timeout=90_000)  # a rerun may show it twice
    _wait_idle(page)


def test_every_page_in_a_real_browser(served_app, full_demo):
    demo_db = full_demo[0]
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    owner = next(u for u in demo_users(get_engine(demo_db)) if u.role == "owner")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(served_app)
            page.get_by_label("User name").wait_for(timeout=60_000)
            page.screenshot(path=str(SHOTS / "00-login.png"), full_page=True)
            _login(page, served_app, owner.username, DEMO_PASSWORDS["owner"])

            # Every page is toured (and shot) by test_every_page_reads_as_written_for_a_person_for_every_role.

            # Three clicks from the overview to why a system is below 100% and how to fix it.
            page.get_by_test_id("stSidebarNav").get_by_role("link", name="Overview", exact=True).click()
            _wait_idle(page)
            page.locator("[data-testid='stPageLink'] a[href*='units']").nth(0).click()  # 1: the worst domain
            _wait_idle(page)
            _shot(page, SHOTS / "21-three-clicks-domain.png")
            page.locator("[data-testid='stPageLink'] a[href*='system']").nth(0).click()  # 2: its worst system
            _wait_idle(page)
            assert page.get_by_text("What to fix").count() == 1
            assert page.get_by_text("How to fix:").count() >= 1
            _shot(page, SHOTS / "22-three-clicks-system.png")

            # The flash-sale form and the overrides timeline, then a rule's page.
            page.get_by_test_id("stSidebarNav").get_by_role("link", name="Flash sales", exact=True).click()
            _wait_idle(page)
            for view, shot in (("New request", "30-flashsales-form"), ("Overrides timeline", "31-flashsales-timeline"),
                               ("Limits and unmanaged sales", "32-flashsales-limits")):
                page.get_by_text(view, exact=True).first.click()
                _wait_idle(page)
                _shot(page, SHOTS / f"{shot}.png")
            _bad_sale_requests_are_answered_for_a_person(page)
            page.get_by_test_id("stSidebarNav").get_by_role("link", name="Rules", exact=True).click()
            _wait_idle(page)
            page.goto(f"{served_app}/rules?rule=db_multi_az")
            page.get_by_text("Systems not meeting it").wait_for(timeout=90_000)
            _wait_idle(page)
            _shot(page, SHOTS / "33-rule-page.png")

            # An architect sees the reviews waiting for them, with the approve and reject forms.
            _logout(page)
            architect = next(u for u in demo_users(get_engine(demo_db)) if u.role == "architect")
            _login(page, served_app, architect.username, DEMO_PASSWORDS["architect"])
            page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reviews and waivers", exact=True).click()
            _wait_idle(page)
            page.get_by_text("Answers and decision").first.click()  # each review's form is folded away
            _wait_idle(page)
            assert page.get_by_role("button", name="Approve").count() >= 1
            _shot(page, SHOTS / "40-reviews-architect.png")
            assert not errors, errors
        finally:
            browser.close()


# The form's labels as a person sees them; every field error starts with one, then says what is wrong
# and, after a colon or semicolon, what to do.
SALE_LABELS = ("Merchant id", "Merchant name", "Merchant category", "Reporter", "Key account manager",
               "Solution engineer", "Countries", "Start", "End", "Expected peak", "Expected multiplier", "Notes")
WHAT_TO_DO = re.compile(r"[:;] (?:use|give|fill|pick|keep|choose)\b")
NOT_STORED = "Not stored: fix the fields marked below."


def _form_errors(page) -> list[str]:
    return [" ".join(e.inner_text().split()) for e in
            page.locator("[data-testid='stAlertContentError'] [data-testid='stMarkdownContainer']").all()]


def _bad_sale_requests_are_answered_for_a_person(page) -> None:
    """The request form (shown to a system owner) submitted with bad input, twice: each error names
    the field as the form labels it, says what is wrong and what to do, and reads as no developer
    text (no pydantic phrase, pattern, None or JSON key). Nothing is stored: the input is refused."""
    page.get_by_text("New request", exact=True).first.click()
    _wait_idle(page)
    form = page.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Merchant id").fill("bad id!")
    form.get_by_role("textbox", name="Solution engineer").fill("se omar")
    form.get_by_role("button", name="Submit request").click()
    _wait_idle(page)
    _shot(page, SHOTS / "34-flashsales-form-errors.png")
    shown = _form_errors(page)
    assert shown == [
        NOT_STORED,
        "Merchant id is not in the expected form: use letters, digits and _ . : - only (up to 64 characters), "
        "starting with a letter or digit.",
        "Merchant name is empty: fill it in.",
        "Key account manager is empty: fill it in.",
        "Solution engineer is not in the expected form: give a user name such as jane.doe, or an e-mail address.",
        "Countries: none picked; pick at least one.",
    ], shown
    # The shape fixed, what needs the database and the clock: neither an expected peak nor a multiplier.
    form.get_by_role("textbox", name="Merchant id").fill("M-TOUR-1")
    form.get_by_role("textbox", name="Merchant name").fill("Tour shop")
    form.get_by_role("textbox", name="Key account manager").fill("kam.ella")
    form.get_by_role("textbox", name="Solution engineer").fill("se.omar")
    countries = form.get_by_role("combobox", name="Countries")
    countries.scroll_into_view_if_needed()  # its list opens below it: off the window, no pick is made
    countries.click()
    countries.fill("SE")
    page.get_by_role("option", name="SE", exact=True).wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert form.get_by_test_id("stMultiSelectTagsContainer").inner_text().split() == ["SE"]
    form.get_by_role("button", name="Submit request").click()
    _wait_idle(page)
    second = _form_errors(page)
    assert second == [NOT_STORED, "Expected peak: neither expected peak nor expected multiplier was given; "
                                  "give one or both"], second
    for message in [*shown, *second]:
        assert not _developer_text(message), (message, _developer_text(message))
    for message in [*shown[1:], *second[1:]]:
        assert message.startswith(SALE_LABELS) and WHAT_TO_DO.search(message), message


# Text a person should never read on a page, and why it is there when it is.
DEVELOPER_TEXT = [
    (re.compile(r"\bNone\b(?! of\b)"), "a Python None where a value or a word belongs"),
    (re.compile(r"\b(?:nan|NaN)\b"), "a NaN where a number or a dash belongs"),
    (re.compile(r"\w\(s\)"), "a plural written as (s)"),
    (re.compile(r"(?<![\w-])--[a-z][a-z-]*"), "a command-line flag"),
    (re.compile(r"String should match pattern|Input should be|validation errors? for|Field required|"
                r"should be a valid|Value error,"), "a pydantic validation message"),
    (re.compile(r"Traceback \(most recent call last\)|object at 0x[0-9a-f]+|Timestamp\('|datetime\.\w+\("),
     "a Python repr or traceback"),
    (re.compile(r"\b\d+\.\d{5,}\b"), "a number with raw float digits"),
    (re.compile(r"\b(?:readiness_team|ratelimit_team)\b"), "a role's identifier instead of its name"),
]
TOUR_SHOTS = SHOTS
# What a person reads on the page: its visible text, where a command shown as code (`perftest run
# --system ...`, an empty state's "run this") stands as code, not as prose leaking developer words.
READ_TEXT = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    let text = main.innerText;
    for (const code of main.querySelectorAll('code, pre')) {
        const shown = code.innerText;
        if (shown) text = text.split(shown).join(' \u2039code\u203a ');
    }
    return text;
}"""


def _developer_text(text: str) -> list[str]:
    found = []
    for pattern, why in DEVELOPER_TEXT:
        for match in pattern.finditer(text):
            start, end = max(0, match.start() - 50), min(len(text), match.end() + 50)
            context = " ".join(text[start:end].split())
            found.append(f"{why}: {match.group(0)!r} in \u2026{context}\u2026")
    return found


@pytest.fixture(scope="module")
def tour_users(full_demo) -> dict:
    """The demo's logins by role, as `make app` lists them."""
    return {u.role: u for u in demo_users(get_engine(full_demo[0]))}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reads_as_written_for_a_person_for_every_role(served_app, tour_users, role):
    """The tour: each page as each demo role, a full-page screenshot of each; no exception, no
    developer text. Every finding is listed with its role, page and the text around it."""
    from playwright.sync_api import sync_playwright

    if role not in tour_users:
        holders = ", ".join(f"{u.role} {u.username}" for u in tour_users.values())
        pytest.skip(f"the demo has no separate {role} login (app/users.py demo_users: {holders})")
    user = tour_users[role]
    TOUR_SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            started = time.monotonic()
            _login(page, served_app, user.username, DEMO_PASSWORDS[role])
            print(f"{role}: logged in in {time.monotonic() - started:.1f} s")
            for label, slug in NAV:
                where, started = f"{role} / {label}", time.monotonic()
                page.get_by_test_id("stSidebarNav").get_by_role("link", name=label, exact=True).click()
                _wait_idle(page, settle=400)
                _shot(page, TOUR_SHOTS / f"{role}-{slug}.png")
                if role == "owner":  # the names docs/app.md links to
                    shutil.copyfile(TOUR_SHOTS / f"{role}-{slug}.png", SHOTS / f"{NAV.index((label, slug)) + 1:02d}-{slug}.png")
                for exception in page.locator("[data-testid='stException']").all():
                    problems.append(f"{where}: exception on the page: {' '.join(exception.inner_text().split())[:300]}")
                problems += [f"{where}: {finding}" for finding in _developer_text(page.evaluate(READ_TEXT))]
                problems += [f"{where}: error in the browser: {error}" for error in errors]
                errors.clear()
                print(f"{where}: {time.monotonic() - started:.1f} s")
        finally:
            browser.close()
    assert not problems, f"touring as {role}, {len(problems)} finding{'' if len(problems) == 1 else 's'}:\n" + "\n".join(problems)
