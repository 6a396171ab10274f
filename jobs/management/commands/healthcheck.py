"""`manage.py healthcheck ROLE`: exit 0 when this container's process of ROLE is healthy.

Used by docker/compose.yaml. web: the database and Redis answer. worker: an RQ worker on this host
has sent a heartbeat recently. scheduler: an rq-scheduler instance is alive.
"""

from __future__ import annotations

import socket
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone
from rq.worker import Worker

from jobs.connection import get_redis


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("role", choices=("web", "worker", "scheduler"))

    def handle(self, *args, role: str, **options):
        redis = get_redis()
        try:
            redis.ping()
            connection.ensure_connection()
        except Exception as exc:
            raise CommandError(f"unhealthy: {exc}") from None
        if role == "worker":
            self._worker(redis)
        elif role == "scheduler":
            self._scheduler(redis)
        self.stdout.write(f"{role}: healthy")

    def _worker(self, redis) -> None:
        host = socket.gethostname()
        mine = [w for w in Worker.all(connection=redis) if w.hostname == host]
        if not mine:
            raise CommandError(f"unhealthy: no RQ worker registered from {host}")
        fresh = timezone.now() - timedelta(seconds=max(w.worker_ttl for w in mine))
        if not any(w.last_heartbeat and w.last_heartbeat >= fresh for w in mine):
            raise CommandError(f"unhealthy: the workers on {host} stopped sending heartbeats")

    def _scheduler(self, redis) -> None:
        if not any(True for _ in redis.scan_iter(match="rq:scheduler_instance:*", count=100)):
            raise CommandError("unhealthy: no rq-scheduler instance is alive")
