"""The settings area in a real browser (Debian's chromium through Playwright): HTMX forms without reloads,
the secret shown once with a working copy button, confirmations before revoking and rotating.

SCREENSHOTS=1 saves docs/screenshots/web-settings-*.png at laptop and phone widths.
"""

from __future__ import annotations

import pytest

from studyapp.apikeys.models import ApiKey
from studyapp.webhooks.models import Webhook, WebhookDelivery
from studyapp.webhooks.services import deliveries_create, delivery_mark_failed
from tests.browser import browser, mark_page, page, page_was_not_reloaded, screenshot  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def log_in(page, base: str, next_url: str) -> None:
    page.goto(f"{base}/login/?next={next_url}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == f"{base}{next_url}"


def test_a_student_makes_and_revokes_a_key_and_registers_and_rotates_a_webhook(page, live_server, alice, settings):
    """No reload anywhere; each secret is focused, copied with the button, and gone from the page afterwards."""
    settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES = True
    base = live_server.url
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    log_in(page, base, "/settings/keys/")
    mark_page(page)
    page.fill("#id_name", "laptop script")
    page.click("text=Create key")
    page.wait_for_selector("#secret-value")
    secret = page.input_value("#secret-value")
    assert secret.startswith(ApiKey.objects.get().prefix)
    assert page.evaluate("() => document.activeElement.id") == "secret-value"
    page.click("button[data-copy]")
    page.wait_for_selector("text=Copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    assert not page.is_visible(".no-clipboard")  # the select-and-copy hint is for browsers without a clipboard
    screenshot(page, "web-settings-keys.png")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Revoke')")
    page.wait_for_selector("text=was revoked")
    assert not page.is_visible("#secret-value") and secret not in page.content()
    assert ApiKey.objects.get().revoked_at is not None

    page.click("nav.tabs >> text=Webhooks")
    mark_page(page)
    page.fill("#id_url", "http://localhost:9000/hook")
    page.click("button:has-text('Register')")
    page.wait_for_selector("#id_url_error")
    assert "localhost resolves to" in page.inner_text("#id_url_error")
    assert page.get_attribute("#id_url", "aria-invalid") == "true"
    page.fill("#id_url", "https://93.184.215.14/hooks/studyapp")
    page.click("button:has-text('Register')")
    page.wait_for_selector("#secret-value")
    first = page.input_value("#secret-value")
    assert first == Webhook.objects.get().secret
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Rotate secret')")
    page.wait_for_selector("text=The new signing secret for")
    second = page.input_value("#secret-value")
    assert second != first and second == Webhook.objects.get().secret
    assert page_was_not_reloaded(page)
    assert page.is_visible("text=Checking that a request came from studyapp")
    delivered, failed = deliveries_create(owner=alice, event="document.ready", event_key="pipeline:1", payload={})[0], \
        deliveries_create(owner=alice, event="document.failed", event_key="pipeline:2", payload={})[0]
    WebhookDelivery.objects.filter(pk=delivered.pk).update(status="delivered", attempts=1, response_status=204)
    WebhookDelivery.objects.filter(pk=failed.pk).update(attempts=8, response_status=503)
    delivery_mark_failed(delivery_id=failed.pk, error="the receiver answered 503: try again later")
    page.reload()
    assert first not in page.content() and second not in page.content()
    assert page.is_visible(f"#delivery-{delivered.pk} >> text=HTTP 204")
    screenshot(page, "web-settings-webhooks.png")
    assert page.console_errors == [], page.console_errors

    phone = page.context.browser.new_context(viewport=PHONE, storage_state=page.context.storage_state())
    try:
        small = phone.new_page()
        for name, url in (("keys", "/settings/keys/"), ("webhooks", "/settings/webhooks/")):
            small.goto(f"{base}{url}")
            assert small.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), name
            screenshot(small, f"web-settings-{name}-phone.png")
    finally:
        phone.close()
