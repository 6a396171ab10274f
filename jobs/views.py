"""/metrics for Prometheus: staff sessions, or a bearer token (settings.METRICS_TOKEN)."""

from __future__ import annotations

from secrets import compare_digest

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from jobs.metrics import render


def _authorized(request: HttpRequest) -> bool:
    if getattr(request.user, "is_staff", False):
        return True
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    return bool(settings.METRICS_TOKEN and token and compare_digest(settings.METRICS_TOKEN, token))


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorized(request):
        response = HttpResponse("staff session or bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
