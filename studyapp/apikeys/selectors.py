"""Reads for API keys."""

from __future__ import annotations

from django.db.models import QuerySet

from studyapp.apikeys.models import ApiKey


def api_keys_for_owner(*, owner) -> QuerySet[ApiKey]:
    """The owner's keys that still work, newest first (revoked ones are kept but not listed)."""
    return ApiKey.objects.filter(owner=owner, revoked_at__isnull=True).order_by("-created_at")
