"""Who is calling: an API key (two header forms) or the web UI's own session with CSRF.

Tried in this order; the first that recognises the request wins, and `request.auth` is the student.
Nothing else gets in: every operation needs one of them, except the docs and the schema.

- `Authorization: Bearer sa_...` or `X-API-Key: sa_...`: a key the student made (studyapp.apikeys).
- Django's session cookie: for the web UI's fetch() calls. Writes need Django's CSRF token in the
  `X-CSRFToken` header, exactly as a form would; an anonymous request is a 401, never a CSRF 403.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.security import APIKeyCookie, APIKeyHeader, HttpBearer

from studyapp.apikeys.services import api_key_authenticate


def _student_for(request: HttpRequest, secret: str | None) -> Any:
    if not secret:
        return None
    key = api_key_authenticate(secret=secret.strip())
    if key is None:
        return None
    request.api_key = key  # type: ignore[attr-defined]
    return key.owner


class ApiKeyBearer(HttpBearer):
    """`Authorization: Bearer <key>`."""

    def __call__(self, request: HttpRequest) -> Any:
        # ninja's own version logs the whole header (a secret, perhaps) when the scheme is not Bearer.
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return _student_for(request, token)


class ApiKeyHeader(APIKeyHeader):
    """`X-API-Key: <key>`."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return _student_for(request, key)


class StudentSession(APIKeyCookie):
    """The signed-in student of the web UI (Django's session), with Django's CSRF check on writes."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None  # anonymous: no CSRF check, so the answer is 401
        return super()._get_key(request)  # raises a 403 when a write's CSRF token is missing or wrong

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


AUTH = [ApiKeyBearer(), ApiKeyHeader(), StudentSession()]


def require_session(request: HttpRequest) -> None:
    """Refuse requests made with an API key: for actions a leaked key must never be able to take."""
    if getattr(request, "api_key", None) is not None:
        raise PermissionDenied("This needs the signed-in web UI; an API key cannot do it.")
