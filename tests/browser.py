"""Driving a real browser in tests: Debian's chromium through Playwright's sync API.

Playwright's own browser builds are never used (`playwright install` downloads them, and there is
no network for that): we launch the system chromium (`apt-get install chromium`). Tests that use
this mark themselves `@pytest.mark.browser` and are skipped only when that binary is missing.

    from tests.browser import browser, page, admin_login  # noqa: F401 (fixtures)

    @pytest.mark.browser
    def test_something(page, live_server): ...

Screenshots go to docs/screenshots/ only when the environment variable SCREENSHOTS=1 is set, so an
ordinary test run never changes files in the repository.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOT_DIR = REPO / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}
TIMEOUT_MS = 15_000


@pytest.fixture
def browser(monkeypatch):
    """A headless chromium for one test."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from django.db import connections
    from playwright.sync_api import sync_playwright  # here, so that importing this module needs no playwright

    # Playwright's sync API runs an asyncio loop on this thread, and Django then refuses ORM calls
    # from the test ("You cannot call this from an async context"). The test code is synchronous;
    # the loop only carries Playwright's messages.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            # While that loop runs, Django keeps this thread's connections in a separate (async)
            # slot that pytest-django's teardown never sees: close them here, or PostgreSQL
            # cannot drop the test database at the end ("being accessed by other users").
            connections.close_all()
            instance.close()


@pytest.fixture
def page(browser):
    """A fresh page (own cookies) with a desktop-sized viewport; console errors are collected."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield _watched(context.new_page())
    finally:
        context.close()


def new_tab(page):
    """Another page in the same browser context (same session cookies), console errors collected."""
    return _watched(page.context.new_page())


def _watched(new_page):
    """Collect what went wrong on the page in `page.console_errors`: script errors, console errors,
    and responses >= 400 (with their URL; the browser's own /favicon.ico request is not the app's)."""
    errors: list[str] = []
    new_page.console_errors = errors

    def on_console(msg) -> None:
        # "Failed to load resource" carries no URL; the response handler reports those.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(msg.text)

    def on_response(response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"HTTP {response.status} {response.request.method} {response.url}")

    new_page.on("console", on_console)
    new_page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    new_page.on("response", on_response)
    new_page.on("requestfailed", lambda request: errors.append(f"failed: {request.method} {request.url}"))
    return new_page


def admin_login(page, base_url: str, username: str, password: str, *, next_url: str = "/admin/") -> None:
    """Log into the Django admin through its login form and land on `next_url`."""
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click('input[type="submit"]')
    if "/admin/login/" in page.url:
        raise AssertionError(f"admin login as {username!r} failed: {page.text_content('.errornote') or page.url}")


def screenshot(page, name: str, *, full_page: bool = False) -> Path | None:
    """Save docs/screenshots/<name> when SCREENSHOTS=1 (the viewport, or the whole page); otherwise
    do nothing and return None."""
    if os.environ.get("SCREENSHOTS") != "1":
        return None
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def mark_page(page) -> None:
    """Put a marker on the page's window: it survives only as long as the page is not reloaded."""
    page.evaluate("() => { window.__marker = 1; }")


def page_was_not_reloaded(page) -> bool:
    return page.evaluate("() => window.__marker === 1")


def poll(read: Callable[[], Any], until: Callable[[Any], bool], *, timeout: float, interval: float = 0.1,
         what: str = "the condition") -> list[Any]:
    """Call `read` every `interval` seconds until `until(value)`; return every value read, in order."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        seen.append(value)
        if until(value):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last values: {seen[-5:]}")
        time.sleep(interval)
