"""Endpoint profiles kept in the database, shared by every worker (see output_modes.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

from django.utils import timezone

from studyapp.ai.models import KnownEndpoint
from studyapp.ai.providers.output_modes import EndpointProfile

# After this long a learnt profile is tried afresh: servers get upgraded.
RELEARN_AFTER = timedelta(days=7)


class DatabaseMemory:
    """Read once per endpoint for the life of this object (one job's provider): a graph's hundreds
    of calls do not each ask the database what the first one learnt."""

    def __init__(self) -> None:
        self._known: dict[str, EndpointProfile | None] = {}
        self._lock = threading.Lock()  # calls run on pool threads

    def recall(self, endpoint: str) -> EndpointProfile | None:
        with self._lock:
            if endpoint not in self._known:
                self._known[endpoint] = self._read(endpoint)
            return self._known[endpoint]

    def remember(self, endpoint: str, profile: EndpointProfile) -> None:
        KnownEndpoint.objects.update_or_create(endpoint=endpoint[:400], defaults={
            "output_mode": profile.output_mode, "token_parameter": profile.token_parameter})
        with self._lock:
            self._known[endpoint] = profile

    @staticmethod
    def _read(endpoint: str) -> EndpointProfile | None:
        row = KnownEndpoint.objects.filter(
            endpoint=endpoint[:400], updated_at__gte=timezone.now() - RELEARN_AFTER).first()
        if row is None:
            return None
        return EndpointProfile(output_mode=row.output_mode, token_parameter=row.token_parameter)
