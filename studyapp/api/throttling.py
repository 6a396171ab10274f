"""The per-student limit on write requests, shared by every web process through Redis.

Counted by the same `limits` moving-window limiter (and Redis) as the provider limit in
jobs/ratelimit.py, keyed by the student, not by the key or session used. The rate is
settings.API_WRITE_RATE (e.g. "60/minute"). Reads are not limited: polling a job is what clients do.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.http import HttpRequest
from limits import parse
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

from jobs.ratelimit import shared_limiter

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteRateLimit(BaseThrottle):
    def __init__(self) -> None:
        # ninja asks allow_request() and then wait() on the same shared object; a thread-local keeps
        # one request's wait from leaking into another's under a threaded server.
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        student = getattr(request, "auth", None)
        if request.method in SAFE_METHODS or student is None:
            return True
        item = parse(settings.API_WRITE_RATE)
        limiter = shared_limiter()
        try:
            if limiter.hit(item, "api-write", str(student.pk)):
                return True
            self._local.wait = max(1.0, limiter.get_window_stats(item, "api-write", str(student.pk)).reset_time
                                   - time.time())
        except RedisError as exc:
            # The limit protects the queue; without Redis, submissions wait in the database anyway.
            log.warning("write rate limit unavailable (%s); letting the request through", exc)
            return True
        return False

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)
