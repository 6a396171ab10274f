"""What every student view shares: login (HTMX-aware), ownership lookups, partial responses."""

from __future__ import annotations

import uuid
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_htmx.http import HttpResponseClientRedirect

from jobs.models import JobRun
from studyapp.documents.models import Document


def student_required(view):
    """login_required that also works for HTMX requests.

    A poll whose session expired must not swap the login page into a progress bar: the browser
    is sent to the login page as a whole instead (HX-Redirect).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if getattr(request, "htmx", False):
            page = request.htmx.current_url_abs_path or resolve_url(settings.LOGIN_REDIRECT_URL)
            return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page})}")
        return redirect_to_login(request.get_full_path())

    return wrapper


MAX_ID = 2**63 - 1  # the largest primary key the databases store; a larger one names nothing


def parse_id(raw: object) -> int | None:
    """A posted or routed id as a number the database can look up, or None (SQLite raises
    OverflowError for larger ones instead of finding nothing)."""
    text = str(raw)
    if not text.isdigit() or int(text) > MAX_ID:
        return None
    return int(text)


def own_document(request: HttpRequest, pk: int) -> Document:
    """The student's document, or 404 (another student's document does not exist for them)."""
    if parse_id(pk) is None:
        raise Http404("no such document")
    return get_object_or_404(Document, pk=pk, owner=request.user)


def own_run(request: HttpRequest, run_id: str) -> JobRun:
    try:
        uuid.UUID(str(run_id))
    except ValueError:
        raise Http404("no such job") from None
    return get_object_or_404(JobRun, pk=run_id, owner=request.user)


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` the form carried if it points into this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback
