"""Webhooks: registering them, recording events for them, and delivering one event.

The web UI's settings page calls webhook_create, webhooks_for_owner, webhook_for_owner,
deliveries_recent, webhook_rotate_secret and webhook_delete.

Delivery raises the domain's errors and the job layer decides what they mean: a TransientError
(network trouble, a 5xx, 408 or 429 answer) is retried with backoff, a PermanentError (a 4xx
answer, a URL that resolves to a private address when those are blocked) fails the delivery.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from studyapp.core.errors import Conflict, NotFound, PermanentError, TransientError
from studyapp.webhooks import http, signing
from studyapp.webhooks.models import Webhook, WebhookDelivery, new_secret

EVENT_HEADER = "Studyapp-Event"
DELIVERY_HEADER = "Studyapp-Delivery"
_RETRYABLE_STATUSES = {408, 425, 429}
MAX_WEBHOOKS = 10
MAX_URL_LENGTH = Webhook._meta.get_field("url").max_length


class InvalidWebhook(PermanentError):
    """The webhook URL cannot be used."""


def webhook_create(*, owner, url: str, allow_private: bool = True) -> Webhook:
    """Register `url` for the owner's document events; its signing secret is `webhook.secret`.

    With `allow_private` False (what settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES asks for), a URL
    whose host is, or resolves to, a loopback, private or link-local address is refused here with
    the reason. Delivery checks again at send time: what a name resolves to can change.

    Raises:
        InvalidWebhook: not an http(s) URL, too long, or an address webhooks may not reach.
        Conflict: the owner already has this URL, or MAX_WEBHOOKS webhooks.
    """
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook(f"A webhook URL can be at most {MAX_URL_LENGTH} characters long.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidWebhook(f"{url!r} is not an http:// or https:// URL") from None
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhook("A webhook URL may not carry a user name or password: they would be stored and shown "
                             "in clear. Check the request with the webhook's signature instead.")
    if not allow_private:
        _check_reachable(url)
    with transaction.atomic():
        # Lock the owner's row so two requests at once cannot both pass the checks.
        get_user_model().objects.select_for_update().only("pk").get(pk=owner.pk)
        mine = Webhook.objects.filter(owner=owner)
        if mine.filter(url=url).exists():
            raise Conflict("You already have a webhook for this URL.")
        if mine.count() >= MAX_WEBHOOKS:
            raise Conflict(f"You already have {MAX_WEBHOOKS} webhooks; delete one you no longer use first.")
        return Webhook.objects.create(owner=owner, url=url)


def _check_reachable(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not http.is_public_address(host):
            raise InvalidWebhook(f"{host} is a private or local address; webhooks can only reach public addresses.")
        return
    try:
        http.resolve(host, parts.port or (443 if parts.scheme == "https" else 80), allow_private=False)
    except http.BlockedAddress as exc:
        raise InvalidWebhook(f"{exc.message}.") from None
    except TransientError:
        raise InvalidWebhook(f"The host {host} could not be found; check the URL.") from None


def webhook_for_owner(*, owner, webhook_id: int) -> Webhook:
    """Raises NotFound for an unknown id and for another user's webhook alike."""
    webhook = Webhook.objects.filter(owner=owner, pk=webhook_id).first()
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def webhook_rotate_secret(*, webhook: Webhook) -> Webhook:
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret"])
    return webhook


def webhooks_for_owner(*, owner) -> QuerySet[Webhook]:
    return Webhook.objects.filter(owner=owner)


def deliveries_for_webhook(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    return webhook.deliveries.all()


def deliveries_recent(*, webhook: Webhook, limit: int = 5) -> list[WebhookDelivery]:
    """The webhook's latest deliveries, newest first."""
    return list(webhook.deliveries.order_by("-created_at", "-pk")[:limit])


def deliveries_create(*, owner, event: str, event_key: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """One pending delivery per active webhook of the owner; an event already recorded for a
    webhook is not recorded again. Returns the deliveries this call created."""
    created = []
    for webhook in Webhook.objects.filter(owner=owner, active=True):
        try:
            with transaction.atomic():
                created.append(WebhookDelivery.objects.create(
                    webhook=webhook, event=event, event_key=event_key, payload=payload))
        except IntegrityError:
            continue  # another process recorded this occurrence first
    return created


def delivery_send(*, delivery: WebhookDelivery, timeout_s: float, allow_private: bool) -> WebhookDelivery:
    """POST the delivery's payload, signed with its webhook's secret, and record the answer."""
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery.pk)
    if delivery.status == WebhookDelivery.Status.DELIVERED:
        return delivery  # a repeated job: the receiver already has it
    webhook = delivery.webhook
    if not webhook.active:
        raise PermanentError("the webhook was switched off")
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "studyapp-webhooks/1",
        signing.HEADER: signing.sign(webhook.secret, body),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
    }
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        response = http.post(webhook.url, body, headers, timeout=timeout_s, allow_private=allow_private)
    except (TransientError, PermanentError) as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(error=exc.message[:2000])
        raise
    return _record_answer(delivery, response)


def _record_answer(delivery: WebhookDelivery, response: http.Response) -> WebhookDelivery:
    fields: dict[str, Any] = {"response_status": response.status}
    if 200 <= response.status < 300:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(), error="")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        delivery.refresh_from_db()
        return delivery
    message = f"the receiver answered {response.status}: {response.body[:200]}".strip()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(error=message, **fields)
    if response.status >= 500 or response.status in _RETRYABLE_STATUSES:
        raise TransientError(message, retry_after=response.retry_after)
    raise PermanentError(message)


def delivery_mark_failed(*, delivery_id: int, error: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).exclude(status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.FAILED, error=error[:2000])


def delivery_requeue(*, delivery_id: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.FAILED).update(
        status=WebhookDelivery.Status.PENDING)
