"""Every error the API answers is JSON `{code, message}` with the status that says what it is.

One place turns exceptions into responses (`install_error_handlers`), so handlers just let domain
errors rise:

    400 bad input (PermanentError and its kinds, request validation)   409 Conflict
    401 no or unknown credentials      403 CSRF failure or not allowed  404 NotFound, unknown routes' ids
    413 FileTooLarge, body too big     429 RateLimited / write limit (Retry-After)
    503 TransientError, Redis away (Retry-After when known)             500 a bug (logged, no details)

`code` is stable and machine-readable: the generic name of the status (`not_found`, `conflict`,
`bad_request`, ...) or, for a specific domain error, its class name in snake case (`not_a_pdf`,
`password_required`, `file_too_large`, ...). `message` is written for the student.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from redis.exceptions import RedisError

from studyapp.core.errors import Cancelled, Conflict, NotFound, PermanentError, RateLimited, StudyappError, TransientError
from studyapp.documents.services import FileTooLarge

log = logging.getLogger(__name__)


class FieldErrorOut(Schema):
    location: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    details: list[FieldErrorOut] | None = None  # request validation only: one entry per bad field


def read_errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """OpenAPI responses of a read: bad parameters, no credentials, and `statuses`."""
    return {status: ErrorOut for status in (400, 401, *statuses)}


def write_errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """OpenAPI responses of a write: as a read, plus CSRF (session) and the write rate limit."""
    return {status: ErrorOut for status in (400, 401, 403, 429, 503, *statuses)}


# Domain errors by nature, most specific first: (class, status, generic code).
_DOMAIN = (
    (FileTooLarge, 413, "file_too_large"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (Cancelled, 409, "cancelled"),
    (PermanentError, 400, "bad_request"),
    (RateLimited, 429, "rate_limited"),
    (TransientError, 503, "unavailable"),
)
_CODE_BY_STATUS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                   409: "conflict", 413: "request_too_large", 429: "rate_limited", 503: "unavailable"}


def error_response(api: NinjaAPI, request: HttpRequest, status: int, message: str, *, code: str | None = None,
                   retry_after: float | None = None, details: list[dict] | None = None) -> HttpResponse:
    body: dict[str, Any] = {"code": code or _CODE_BY_STATUS.get(status, "error"), "message": message}
    if details is not None:
        body["details"] = details
    response = api.create_response(request, body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="studyapp"'
    return response


def install_error_handlers(api: NinjaAPI) -> None:
    def on_domain_error(request, exc: StudyappError):
        for cls, status, generic in _DOMAIN:
            if isinstance(exc, cls):
                code = generic if type(exc) is cls else _snake(type(exc).__name__)
                retry_after = getattr(exc, "retry_after", None) if status in (429, 503) else None
                return error_response(api, request, status, exc.message, code=code, retry_after=retry_after)
        return on_bug(request, exc)

    def on_validation_error(request, exc: ValidationError):
        details = [{"location": _location(e.get("loc", ())), "message": e.get("msg", "invalid")} for e in exc.errors]
        if details and all(d["location"].startswith("path.") for d in details):
            # An id that cannot exist (not a number, out of range) is as unknown as any other.
            return error_response(api, request, 404, "Not found: that id does not exist.")
        message = "; ".join(f"{d['location']}: {d['message']}" for d in details) or "The request is not valid."
        return error_response(api, request, 400, message, code="validation_error", details=details)

    def on_http_error(request, exc: HttpError):
        if isinstance(exc, AuthenticationError):
            return error_response(api, request, 401, "Sign in, or send an API key as `Authorization: Bearer <key>` "
                                                     "or `X-API-Key: <key>`.")
        if isinstance(exc, Throttled):  # ninja adds Retry-After from the limiter's wait
            return error_response(api, request, 429, "Too many requests; try again in a moment.")
        if exc.status_code == 403 and "CSRF" in exc.message:
            return error_response(api, request, 403, "CSRF check failed: send the csrftoken cookie's value as the "
                                                     "X-CSRFToken header.", code="csrf_failed")
        return error_response(api, request, exc.status_code, exc.message)

    def on_bug(request, exc: Exception):
        log.exception("API %s %s failed", request.method, request.path, exc_info=exc)
        return error_response(api, request, 500, "Something went wrong on our side; it has been logged.",
                              code="internal_error")

    handlers = {
        StudyappError: on_domain_error,
        ValidationError: on_validation_error,
        HttpError: on_http_error,
        Http404: lambda request, exc: error_response(api, request, 404, "Not found."),
        PermissionDenied: lambda request, exc: error_response(api, request, 403, str(exc) or "Not allowed."),
        RequestDataTooBig: lambda request, exc: error_response(api, request, 413, "The request body is too large."),
        SuspiciousOperation: lambda request, exc: error_response(api, request, 400, "The request is malformed."),
        MultiPartParserError: lambda request, exc: error_response(api, request, 400,
                                                                  f"The multipart body is malformed: {exc}"),
        RedisError: lambda request, exc: error_response(api, request, 503, "The job queue is unreachable right now.",
                                                        retry_after=5),
        Exception: on_bug,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)


def _location(loc) -> str:
    # ninja says ("body", "body", "name") for the field `name` of the parameter `body`: say body.name.
    parts = [str(part) for part in loc]
    if len(parts) > 2 and parts[0] == parts[1]:
        del parts[1]
    return ".".join(parts)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
