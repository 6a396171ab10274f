"""What the admin index shows about the job system: per kind over the last day, queues, workers."""

from __future__ import annotations

from datetime import timedelta
from statistics import quantiles

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError
from rq.worker import Worker as RQWorker

from jobs.connection import get_redis
from jobs.control import dead_letters, processing_paused, queue_overview
from jobs.models import JobRun


def percentile(values: list[float], q: int) -> float | None:
    """The q-th percentile (1..99) by linear interpolation; None without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


def kind_stats(*, since) -> list[dict]:
    """Per kind, runs that ended since `since`: counts, success rate, p50 and p95 duration (s)."""
    rows: dict[str, dict] = {}
    ended = JobRun.objects.filter(finished_at__gte=since).values_list("kind", "status", "started_at", "finished_at")
    for kind, status, started_at, finished_at in ended:
        row = rows.setdefault(kind, {"kind": kind, "ended": 0, "succeeded": 0, "failed": 0, "cancelled": 0,
                                     "durations": []})
        row["ended"] += 1
        row[status] = row.get(status, 0) + 1
        if started_at and status == JobRun.Status.SUCCEEDED:
            row["durations"].append((finished_at - started_at).total_seconds())
    for row in rows.values():
        durations = sorted(row.pop("durations"))
        row["success_rate"] = round(100.0 * row["succeeded"] / row["ended"], 1)
        row["p50_s"] = _rounded(percentile(durations, 50))
        row["p95_s"] = _rounded(percentile(durations, 95))
    return sorted(rows.values(), key=lambda r: r["kind"])


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def workers_alive() -> list[dict]:
    workers = RQWorker.all(connection=get_redis())
    return [{"name": w.name, "state": w.get_state(), "queues": ", ".join(w.queue_names())} for w in workers]


def dashboard(*, hours: int = 24) -> dict:
    since = timezone.now() - timedelta(hours=hours)
    context = {"hours": hours, "kinds": kind_stats(since=since), "dead_letters": dead_letters().count(),
               "redis_error": ""}
    try:
        context.update(queues=queue_overview(settings.JOB_QUEUE_NAMES), workers=workers_alive(),
                       paused=processing_paused())
    except RedisError as exc:
        context.update(queues=[], workers=[], paused=False, redis_error=str(exc))
    return context
