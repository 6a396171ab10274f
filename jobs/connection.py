"""Redis and RQ queue handles for the job layer.

We use rq's own Queue (not django-rq's DjangoRQ) because jobs.submit already enqueues on commit
itself; the queue names and Redis URL still come from RQ_QUEUES so django-rq's admin and
`manage.py rqworker` see the same queues.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from redis import Redis
from rq import Queue


@lru_cache(maxsize=4)
def _redis_for(url: str) -> Redis:
    return Redis.from_url(url, health_check_interval=30)


def get_redis(queue_name: str | None = None) -> Redis:
    """One shared client (with its pool) per Redis URL; redis-py resets the pool after a fork."""
    url = settings.RQ_QUEUES[queue_name]["URL"] if queue_name else settings.REDIS_URL
    return _redis_for(url)


def get_queue(name: str) -> Queue:
    return Queue(name, connection=get_redis(name))
