"""Settings: the student's API keys (for the REST API) and webhooks (told when a document is ready or
has failed), on top of studyapp.apikeys and studyapp.webhooks.

A secret (a new API key, a webhook's signing secret) is shown in the one response that made it and
never again: that response is not cached, and no page shows a secret after it. The API key's secret
is not even kept (only its hash). Another student's key or webhook is a 404, like an unknown one.
Every action works as a plain form; with HTMX only the section it sits in is redrawn.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import events
from jobs.policies import policy_for
from studyapp.apikeys.selectors import api_keys_for_owner
from studyapp.apikeys.services import MAX_ACTIVE_KEYS, api_key_create, api_key_revoke
from studyapp.core.errors import NotFound, PermanentError
from studyapp.web.forms import ApiKeyForm, WebhookForm
from studyapp.web.views.common import student_required
from studyapp.webhooks import services as webhooks
from studyapp.webhooks import signing
from studyapp.webhooks.models import Webhook, WebhookDelivery


@require_GET
@student_required
def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("web:api_keys")


# --- API keys -------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@student_required
def api_keys(request: HttpRequest) -> HttpResponse:
    """The keys that work (prefix, created, last used) and a form to make one; a new key's secret once."""
    form = ApiKeyForm(request.POST if request.method == "POST" else None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            key, value = api_key_create(owner=request.user, name=form.cleaned_data["name"])
        except PermanentError as exc:  # an empty name, or the most keys one may have
            form.add_error("name", exc.message)
        else:
            secret = {"value": value, "name": key.name, "kind": "key"}
            form = ApiKeyForm()
    return _keys_response(request, form, secret=secret)


@require_POST
@student_required
def api_key_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        key = api_key_revoke(owner=request.user, key_id=pk)
    except NotFound:
        raise Http404("no such API key") from None
    said = f"The key “{key.name}” ({key.prefix}…) was revoked: it no longer works."
    if request.htmx:
        return _keys_response(request, ApiKeyForm(), said=said)
    messages.success(request, said)
    return redirect("web:api_keys")


def _keys_response(request: HttpRequest, form: ApiKeyForm, *, secret: dict | None = None,
                   said: str = "") -> HttpResponse:
    context = {"form": form, "secret": secret, "said": said, "keys": list(api_keys_for_owner(owner=request.user)),
               "max_keys": MAX_ACTIVE_KEYS, "nav": "settings", "tab": "keys"}
    template = "web/settings/partials/keys_section.html" if request.htmx else "web/settings/keys.html"
    return render(request, template, context)


# --- webhooks -------------------------------------------------------------------------------------


def _own_webhook(request: HttpRequest, pk: int) -> Webhook:
    try:
        return webhooks.webhook_for_owner(owner=request.user, webhook_id=pk)
    except NotFound:
        raise Http404("no such webhook") from None


def _webhook_form(data=None) -> WebhookForm:
    return WebhookForm(data, public_only=settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES)


@never_cache
@require_http_methods(["GET", "POST"])
@student_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    """The student's webhooks with their recent deliveries, and a form to register one."""
    form = _webhook_form(request.POST if request.method == "POST" else None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            webhook = webhooks.webhook_create(owner=request.user, url=form.cleaned_data["url"],
                                              allow_private=not settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES)
        except PermanentError as exc:  # not http(s), a private address, registered already, too many
            form.add_error("url", exc.message)
        else:
            secret = {"value": webhook.secret, "name": webhook.url, "kind": "webhook"}
            form = _webhook_form()
    return _webhooks_response(request, form, secret=secret)


@never_cache
@require_POST
@student_required
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    """A new signing secret, shown once; the old one stops working at once."""
    webhook = webhooks.webhook_rotate_secret(webhook=_own_webhook(request, pk))
    secret = {"value": webhook.secret, "name": webhook.url, "kind": "rotated"}
    return _webhooks_response(request, _webhook_form(), secret=secret)


@require_POST
@student_required
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = _own_webhook(request, pk)
    said = f"The webhook for {webhook.url} was deleted: no more events are sent to it."
    webhooks.webhook_delete(webhook=webhook)
    if request.htmx:
        return _webhooks_response(request, _webhook_form(), said=said)
    messages.success(request, said)
    return redirect("web:webhooks")


@require_GET
@student_required
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    """One webhook's recent deliveries: polled while one of them is still being sent."""
    return render(request, "web/settings/partials/deliveries.html", _webhook_row(_own_webhook(request, pk)))


def _webhook_row(webhook: Webhook) -> dict:
    deliveries = webhooks.deliveries_recent(webhook=webhook)
    return {"webhook": webhook, "deliveries": deliveries,
            "sending": any(d.status == WebhookDelivery.Status.PENDING for d in deliveries)}


def _webhooks_response(request: HttpRequest, form: WebhookForm, *, secret: dict | None = None,
                       said: str = "") -> HttpResponse:
    context = {
        "form": form, "secret": secret, "said": said, "nav": "settings", "tab": "webhooks",
        "rows": [_webhook_row(webhook) for webhook in webhooks.webhooks_for_owner(owner=request.user)],
    }
    if request.htmx:
        return render(request, "web/settings/partials/webhooks_section.html", context)
    policy = policy_for("deliver_webhook")
    context.update(
        signature_header=signing.HEADER, event_header=webhooks.EVENT_HEADER, delivery_header=webhooks.DELIVERY_HEADER,
        tolerance_min=signing.TOLERANCE_S // 60, events=(events.READY, events.FAILED),
        timeout_s=int(settings.WEBHOOK_TIMEOUT_S), attempts=policy.max_attempts,
    )
    return render(request, "web/settings/webhooks.html", context)
