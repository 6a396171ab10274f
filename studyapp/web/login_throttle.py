"""Failed sign-ins are limited per account and per client address, on both login pages.

Counted by the `limits` moving-window limiter on Redis (the one the API's write limit uses), so every
web process sees the same counts. Over either limit, sign-in is refused before the password is
checked (the right one included) until the window has moved on: the lockout ends by itself and
nobody can use it to learn whether a password was right. Without Redis, sign-in is not limited.
"""

from __future__ import annotations

import logging
import math
import time

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from limits import parse
from redis.exceptions import RedisError

from jobs.ratelimit import shared_limiter

log = logging.getLogger(__name__)

LOCKED_MESSAGE = ("Too many failed sign-in attempts {whom}. For your safety, sign-in is paused: try again in "
                  "about {minutes} minute{s}.")


class ThrottledLogin:
    """Mixin for Django's authentication forms (needs `self.request`)."""

    def clean(self):
        counters = self._counters()
        self._refuse_if_locked(counters)
        try:
            return super().clean()
        except forms.ValidationError:
            self._count_failure(counters)
            raise

    def _counters(self) -> list[tuple[object, str, str, str]]:
        """(rate, namespace, key, whom) for the account asked for and the client's address."""
        username = (self.data.get("username") or "").strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request is not None else ""
        return [(parse(settings.LOGIN_FAILURES_PER_ACCOUNT), "login-account", username, "for this account"),
                (parse(settings.LOGIN_FAILURES_PER_ADDRESS), "login-address", address, "from your network address")]

    def _refuse_if_locked(self, counters) -> None:
        limiter = shared_limiter()
        for rate, namespace, key, whom in counters:
            try:
                if limiter.test(rate, namespace, key):
                    continue
                reset = limiter.get_window_stats(rate, namespace, key).reset_time
            except RedisError as exc:
                log.warning("login throttle unavailable (%s); not limiting sign-in", exc)
                return
            minutes = max(1, math.ceil((reset - time.time()) / 60))
            log.warning("sign-in refused %s (%s): too many failures", whom, namespace)
            message = LOCKED_MESSAGE.format(whom=whom, minutes=minutes, s="s" if minutes > 1 else "")
            raise forms.ValidationError(message, code="locked")

    def _count_failure(self, counters) -> None:
        limiter = shared_limiter()
        try:
            for rate, namespace, key, _ in counters:
                limiter.hit(rate, namespace, key)
        except RedisError as exc:
            log.warning("login throttle unavailable (%s); a failed sign-in was not counted", exc)


class ThrottledAuthenticationForm(ThrottledLogin, AuthenticationForm):
    """The student login page's form."""


class ThrottledAdminAuthenticationForm(ThrottledLogin, AdminAuthenticationForm):
    """The admin login page's form."""
