"""Rate limits shared by every worker, kept in Redis by the maintained `limits` library.

The provider limit counts requests and tokens per minute for one provider and model, across all
workers. A call that finds no room waits in place when the wait is short; otherwise it raises
ProviderRateLimited, and the runner reschedules the run ("waiting: rate limited") without
spending an attempt.
"""

from __future__ import annotations

import time
from functools import lru_cache

from django.conf import settings
from limits import RateLimitItemPerMinute, storage, strategies
from redis.exceptions import RedisError

from studyapp.ai.errors import ProviderRateLimited

SHORT_WAIT_S = 2.0
# Redis is the system's transport: when it is away, a run waits this long and looks again, and no
# attempt of the student's is spent on it.
REDIS_WAIT_S = 15.0
REDIS_WAIT_STAGE = "waiting: the job system's Redis is unavailable"


@lru_cache(maxsize=4)
def _limiter(url: str) -> strategies.MovingWindowRateLimiter:
    return strategies.MovingWindowRateLimiter(storage.storage_from_string(url, key_prefix="studyapp"))


class ProviderLimiter:
    """Callable handed to the AI layer: `limiter(estimated_tokens)` before each provider request."""

    def __init__(self, provider: str, model: str, *, requests_per_minute: int | None = None,
                 tokens_per_minute: int | None = None):
        self.key = f"{provider}:{model}"
        self.requests = RateLimitItemPerMinute(requests_per_minute or settings.AI_REQUESTS_PER_MINUTE)
        self.tokens = RateLimitItemPerMinute(tokens_per_minute or settings.AI_TOKENS_PER_MINUTE)
        self.limiter = _limiter(settings.REDIS_URL)

    def __call__(self, estimated_tokens: int) -> None:
        cost = max(1, min(estimated_tokens, self.tokens.amount))
        while True:
            try:
                wait = self._try(cost)
            except RedisError as exc:
                raise ProviderRateLimited(f"the shared rate limit cannot be read: Redis is unavailable ({exc})",
                                          retry_after=REDIS_WAIT_S, stage=REDIS_WAIT_STAGE) from None
            if wait is None:
                return
            if wait > SHORT_WAIT_S:
                raise ProviderRateLimited(f"the provider rate limit for {self.key} is full", retry_after=wait)
            time.sleep(wait)

    def _try(self, cost: int) -> float | None:
        """None when both limits had room (and were charged); else seconds until there may be room."""
        if not self.limiter.test(self.requests, "requests", self.key):
            return self._wait(self.requests, "requests")
        if not self.limiter.hit(self.tokens, "tokens", self.key, cost=cost):
            return self._wait(self.tokens, "tokens")
        if not self.limiter.hit(self.requests, "requests", self.key):
            return self._wait(self.requests, "requests")
        return None

    def _wait(self, item, kind: str) -> float:
        reset = self.limiter.get_window_stats(item, kind, self.key).reset_time
        return max(0.05, reset - time.time())


# --- REST API (issue 5) ----------------------------------------------------------------------

def shared_limiter() -> strategies.MovingWindowRateLimiter:
    """The limiter on the project's Redis, for other limits (e.g. API requests per user)."""
    return _limiter(settings.REDIS_URL)
