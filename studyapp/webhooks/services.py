"""Webhooks: registering them, recording events for them, and delivering one event.

Delivery raises the domain's errors and the job layer decides what they mean: a TransientError
(network trouble, a 5xx, 408 or 429 answer) is retried with backoff, a PermanentError (a 4xx
answer, a URL that resolves to a private address when those are blocked) fails the delivery.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from studyapp.core.errors import PermanentError, TransientError
from studyapp.webhooks import http, signing
from studyapp.webhooks.models import Webhook, WebhookDelivery, new_secret

EVENT_HEADER = "Studyapp-Event"
DELIVERY_HEADER = "Studyapp-Delivery"
_RETRYABLE_STATUSES = {408, 425, 429}


class InvalidWebhook(PermanentError):
    """The webhook URL cannot be used."""


def webhook_create(*, owner, url: str) -> Webhook:
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidWebhook(f"{url!r} is not an http:// or https:// URL") from None
    return Webhook.objects.create(owner=owner, url=url)


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
