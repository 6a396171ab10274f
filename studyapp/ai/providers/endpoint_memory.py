"""Endpoint profiles kept in the database, shared by every worker (see output_modes.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from studyapp.ai.models import KnownEndpoint
from studyapp.ai.providers.output_modes import EndpointProfile

# After this long a learnt profile is tried afresh: servers get upgraded.
RELEARN_AFTER = timedelta(days=7)


class DatabaseMemory:
    def recall(self, endpoint: str) -> EndpointProfile | None:
        row = KnownEndpoint.objects.filter(
            endpoint=endpoint[:400], updated_at__gte=timezone.now() - RELEARN_AFTER).first()
        if row is None:
            return None
        return EndpointProfile(output_mode=row.output_mode, token_parameter=row.token_parameter)

    def remember(self, endpoint: str, profile: EndpointProfile) -> None:
        KnownEndpoint.objects.update_or_create(endpoint=endpoint[:400], defaults={
            "output_mode": profile.output_mode, "token_parameter": profile.token_parameter})
