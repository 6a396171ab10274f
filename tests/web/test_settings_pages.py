"""The web UI's settings area through Django's test client: API keys and webhooks, secrets shown once,
clear refusals, and another student's keys and webhooks as 404s."""

from __future__ import annotations

import html
import json

import pytest
from django.test import Client
from django.urls import reverse

from studyapp.apikeys.models import ApiKey
from studyapp.apikeys.services import MAX_ACTIVE_KEYS, api_key_create
from studyapp.webhooks import signing
from studyapp.webhooks.models import Webhook, WebhookDelivery
from studyapp.webhooks.services import deliveries_create, delivery_mark_failed, webhook_create
from tests.web.helpers import Html

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PUBLIC_URL = "https://93.184.215.14/hooks/studyapp"  # a public address, so no DNS is needed


@pytest.fixture
def signed_in(client, alice) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture(autouse=True)
def _public_addresses_only(settings):
    settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES = True  # as in production


def secret_shown(response) -> str | None:
    found = Html(response.content.decode()).find("input", id="secret-value")
    return found[0]["value"] if found else None


def api_status(secret: str) -> int:
    return Client().get("/api/keys", headers={"authorization": f"Bearer {secret}"}).status_code


# --- the area ----------------------------------------------------------------------------------------


def test_settings_are_in_the_navigation_and_open_on_the_api_keys(signed_in):
    """Every page's navigation links to Settings; /settings/ opens the API keys tab, marked current."""
    nav = Html(signed_in.get(reverse("web:library")).content.decode())
    assert nav.find("a", href=reverse("web:settings"))
    response = signed_in.get(reverse("web:settings"))
    assert response.status_code == 302 and response["Location"] == reverse("web:api_keys")
    page = Html(signed_in.get(reverse("web:api_keys")).content.decode())
    assert page.find("a", href=reverse("web:settings"), aria_current="page")
    assert page.find("a", href=reverse("web:api_keys"), aria_current="page") and page.find("a", href=reverse("web:webhooks"))
    assert "No API keys yet" in page.text


def test_anonymous_visitors_are_sent_to_the_login_page(client, alice):
    """Every settings page and action needs a signed-in student; nothing is made or changed."""
    key, _ = api_key_create(owner=alice, name="laptop")
    webhook = webhook_create(owner=alice, url=PUBLIC_URL)
    gets = [reverse("web:settings"), reverse("web:api_keys"), reverse("web:webhooks"),
            reverse("web:webhook_deliveries", args=[webhook.pk])]
    posts = [(reverse("web:api_keys"), {"name": "x"}), (reverse("web:api_key_revoke", args=[key.pk]), {}),
             (reverse("web:webhooks"), {"url": PUBLIC_URL + "/2"}), (reverse("web:webhook_rotate", args=[webhook.pk]), {}),
             (reverse("web:webhook_delete", args=[webhook.pk]), {})]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    for url, data in posts:
        assert client.post(url, data)["Location"].startswith("/login/"), url
    assert ApiKey.objects.get().is_active and ApiKey.objects.count() == 1
    assert Webhook.objects.get().secret == webhook.secret


# --- API keys ------------------------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_and_never_again(signed_in, alice):
    """The create answer shows the secret (it works, uncached, with a copy hint); the list then shows only its
    name, prefix, created and last used; no later page holds the secret."""
    response = signed_in.post(reverse("web:api_keys"), {"name": "laptop script"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = secret_shown(response)
    key = ApiKey.objects.get(owner=alice)
    assert secret and secret.startswith(key.prefix) and key.name == "laptop script"
    text = Html(response.content.decode()).text
    assert "Copy it now: it is shown only this once." in text and "Select it and copy it" in text
    assert secret not in key.key_hash

    later = signed_in.get(reverse("web:api_keys"))
    assert secret not in later.content.decode() and secret_shown(later) is None
    row = Html(later.content.decode())
    assert row.find("tr", id=f"key-{key.pk}") and f"{key.prefix}…" in row.text and "laptop script" in row.text
    assert "never" in row.text  # used by no script yet
    assert api_status(secret) == 200
    assert "just now" in Html(signed_in.get(reverse("web:api_keys")).content.decode()).text
    for page in ("web:library", "web:jobs", "web:webhooks"):
        assert secret not in signed_in.get(reverse(page)).content.decode(), page


def test_with_htmx_creating_a_key_redraws_only_the_keys_section(signed_in, alice):
    """The HTMX answer is the section alone, with the secret and the new row; no page around it."""
    response = signed_in.post(reverse("web:api_keys"), {"name": "ci"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="keys-section"' in body
    key = ApiKey.objects.get()
    assert secret_shown(response).startswith(key.prefix) and f'id="key-{key.pk}"' in body


def test_a_key_without_a_name_or_over_the_limit_is_refused_with_the_reason(signed_in, alice):
    """An empty name says so next to the field; the 21st key is refused with what to do; no key is made."""
    empty = Html(signed_in.post(reverse("web:api_keys"), {"name": "   "}).content.decode())
    assert "Give the key a name, so you can tell it apart later." in empty.text and not ApiKey.objects.exists()
    for n in range(MAX_ACTIVE_KEYS):
        api_key_create(owner=alice, name=f"key {n}")
    response = signed_in.post(reverse("web:api_keys"), {"name": "one too many"})
    assert "revoke one you no longer use first" in Html(response.content.decode()).text
    assert secret_shown(response) is None and ApiKey.objects.count() == MAX_ACTIVE_KEYS


def test_revoking_a_key_stops_it_at_once(signed_in, alice):
    """Revoke: the key leaves the list and the API refuses it; the HTMX form redraws the section with a note."""
    key, secret = api_key_create(owner=alice, name="old laptop")
    response = signed_in.post(reverse("web:api_key_revoke", args=[key.pk]), follow=True)
    assert response.redirect_chain == [(reverse("web:api_keys"), 302)]
    page = Html(response.content.decode())
    assert "The key “old laptop”" in page.text and "was revoked" in page.text and not page.find("tr", id=f"key-{key.pk}")
    assert api_status(secret) == 401
    other, _ = api_key_create(owner=alice, name="ci")
    partial = signed_in.post(reverse("web:api_key_revoke", args=[other.pk]), headers=HTMX).content.decode()
    assert 'id="keys-section"' in partial and "was revoked" in partial and "No API keys yet" in partial


# --- webhooks ------------------------------------------------------------------------------------------


def test_a_new_webhook_s_signing_secret_is_shown_once_and_rotating_shows_a_new_one_once(signed_in, alice):
    """Register: the secret is in that answer only; rotate: a new secret, shown once, the old one gone."""
    response = signed_in.post(reverse("web:webhooks"), {"url": PUBLIC_URL})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    webhook = Webhook.objects.get(owner=alice)
    assert webhook.url == PUBLIC_URL and secret_shown(response) == webhook.secret
    assert "Copy it now: it is shown only this once." in Html(response.content.decode()).text
    later = signed_in.get(reverse("web:webhooks")).content.decode()
    assert webhook.secret not in later and PUBLIC_URL in later

    rotated = signed_in.post(reverse("web:webhook_rotate", args=[webhook.pk]), headers=HTMX)
    old = webhook.secret
    webhook.refresh_from_db()
    assert webhook.secret != old and secret_shown(rotated) == webhook.secret
    assert "The new signing secret for" in rotated.content.decode() and "no-store" in rotated["Cache-Control"]
    again = signed_in.get(reverse("web:webhooks")).content.decode()
    assert webhook.secret not in again and old not in again


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/hook", "'ftp://example.com/hook' is not an http:// or https:// URL"),
    ("example.com/hook", "is not an http:// or https:// URL"),
    ("http://127.0.0.1:8000/hook", "127.0.0.1 is a private or local address; webhooks can only reach public addresses."),
    ("http://192.168.1.20/hook", "192.168.1.20 is a private or local address"),
    ("http://[::1]/hook", "::1 is a private or local address"),
    ("http://localhost:9000/hook", "localhost resolves to"),
    ("", "Enter the URL to send events to."),
])
def test_a_bad_webhook_url_is_refused_with_a_clear_message(signed_in, url, message):
    """Next to the URL field, in words; nothing is registered and no secret is shown."""
    response = signed_in.post(reverse("web:webhooks"), {"url": url})
    page = Html(response.content.decode())
    errors = [e for e in page.find("p", class_="error")]
    assert response.status_code == 200 and errors, page.text
    assert message in page.text
    assert page.find("input", name="url", aria_invalid="true")
    assert secret_shown(response) is None and not Webhook.objects.exists()


def test_private_addresses_are_allowed_when_settings_allow_them_and_a_url_is_registered_once(signed_in, settings):
    """With WEBHOOK_BLOCK_PRIVATE_ADDRESSES off (development), loopback is fine; the same URL twice is refused."""
    assert "on the public internet" in signed_in.get(reverse("web:webhooks")).content.decode()  # the field's help
    settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES = False
    assert secret_shown(signed_in.post(reverse("web:webhooks"), {"url": "http://127.0.0.1:8000/hook"}))
    page = signed_in.get(reverse("web:webhooks")).content.decode()
    assert "public internet" not in page  # that hint is for when they are blocked
    twice = signed_in.post(reverse("web:webhooks"), {"url": "http://127.0.0.1:8000/hook"})
    assert "You already have a webhook for this URL." in Html(twice.content.decode()).text
    assert Webhook.objects.count() == 1


def test_the_eleventh_webhook_is_refused_with_what_to_do(signed_in, alice):
    """At most MAX_WEBHOOKS per student: the next one says to delete one first, and no secret is shown."""
    from studyapp.webhooks.services import MAX_WEBHOOKS

    for n in range(MAX_WEBHOOKS):
        webhook_create(owner=alice, url=f"{PUBLIC_URL}/{n}")
    response = signed_in.post(reverse("web:webhooks"), {"url": PUBLIC_URL})
    assert "delete one you no longer use first" in Html(response.content.decode()).text
    assert secret_shown(response) is None and Webhook.objects.count() == MAX_WEBHOOKS


def test_webhooks_list_their_recent_deliveries_and_poll_while_one_is_being_sent(signed_in, alice):
    """The latest five deliveries with event, status, attempts, the receiver's answer and error; the list
    polls itself while one is pending and stops once none is."""
    webhook = webhook_create(owner=alice, url=PUBLIC_URL)
    for n in range(6):
        deliveries_create(owner=alice, event="document.ready", event_key=f"pipeline:{n}", payload={"n": n})
    deliveries = list(WebhookDelivery.objects.order_by("created_at", "pk"))
    WebhookDelivery.objects.filter(pk=deliveries[1].pk).update(status="delivered", attempts=1, response_status=204)
    WebhookDelivery.objects.filter(pk=deliveries[2].pk).update(attempts=8, response_status=500)
    delivery_mark_failed(delivery_id=deliveries[2].pk, error="the receiver answered 500: oops")
    page = Html(signed_in.get(reverse("web:webhooks")).content.decode())
    shown = [r["id"] for r in page.find("tr") if r.get("id", "").startswith("delivery-")]
    assert shown == [f"delivery-{d.pk}" for d in reversed(deliveries[1:])]  # newest first, five of six
    assert "HTTP 204" in page.text and "the receiver answered 500: oops" in page.text and "Failed" in page.text
    box = page.find("div", id=f"deliveries-{webhook.pk}")[0]
    assert box["hx-get"] == reverse("web:webhook_deliveries", args=[webhook.pk]) and box["hx-trigger"] == "every 1000ms"

    WebhookDelivery.objects.filter(status="pending").update(status="delivered", response_status=200)
    polled = Html(signed_in.get(reverse("web:webhook_deliveries", args=[webhook.pk]), headers=HTMX).content.decode())
    box = polled.find("div", id=f"deliveries-{webhook.pk}")[0]
    assert "hx-trigger" not in box and "Failed" in polled.text


def test_deleting_a_webhook_stops_its_events(signed_in, alice):
    """Delete: gone from the list and the database, with a note; the HTMX form redraws the section."""
    first = webhook_create(owner=alice, url=PUBLIC_URL)
    second = webhook_create(owner=alice, url=PUBLIC_URL + "/2")
    response = signed_in.post(reverse("web:webhook_delete", args=[first.pk]), follow=True)
    assert "no more events are sent to it" in Html(response.content.decode()).text
    partial = signed_in.post(reverse("web:webhook_delete", args=[second.pk]), headers=HTMX).content.decode()
    assert 'id="webhooks-section"' in partial and "No webhooks yet" in partial
    assert not Webhook.objects.exists()


def test_the_page_explains_the_signature_and_its_example_checks_a_real_one(signed_in):
    """The header format is on the page, and the Python shown there verifies what studyapp signs (and refuses
    a changed body)."""
    page = signed_in.get(reverse("web:webhooks")).content.decode()
    text = Html(page).text
    assert "Studyapp-Signature: t=" in text and "HMAC-SHA256" in text and "Studyapp-Delivery" in text
    start = page.index('<pre class="code" id="verify-example"><code>') + len('<pre class="code" id="verify-example"><code>')
    code = html.unescape(page[start:page.index("</code></pre>", start)])
    namespace: dict = {}
    exec(compile(code, "webhooks page", "exec"), namespace)  # noqa: S102 - our own page's example
    body = json.dumps({"event": "document.ready", "document": {"id": 1}}).encode()
    header = signing.sign("whsec-test", body)
    assert namespace["verify"]("whsec-test", body, header)
    assert not namespace["verify"]("whsec-test", body + b" ", header)
    assert not namespace["verify"]("another-secret", body, header)


# --- someone else's ------------------------------------------------------------------------------------


def test_another_student_s_keys_and_webhooks_are_404_and_unchanged(signed_in, bob):
    """Alice cannot revoke Bob's key, or rotate, delete or read the deliveries of Bob's webhook; his things
    appear nowhere on her pages."""
    key, secret = api_key_create(owner=bob, name="bob's laptop")
    webhook = webhook_create(owner=bob, url=PUBLIC_URL)
    secret_before = webhook.secret
    routes = [("post", reverse("web:api_key_revoke", args=[key.pk])), ("post", reverse("web:webhook_rotate", args=[webhook.pk])),
              ("post", reverse("web:webhook_delete", args=[webhook.pk])),
              ("get", reverse("web:webhook_deliveries", args=[webhook.pk]))]
    for method, url in routes:
        for headers in ({}, HTMX):
            assert getattr(signed_in, method)(url, headers=headers).status_code == 404, (url, headers)
    assert api_status(secret) == 200
    webhook.refresh_from_db()
    assert webhook.secret == secret_before
    for page in ("web:api_keys", "web:webhooks"):
        body = signed_in.get(reverse(page)).content.decode()
        assert "bob's laptop" not in body and key.prefix not in body and PUBLIC_URL not in body, page
