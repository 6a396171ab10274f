"""Prometheus metrics for the job layer, served at /metrics (jobs.views.metrics).

Counters that many processes on many machines add to (runs finished, durations, attempts,
rate-limit waits, provider tokens) live in one Redis hash: every work-horse is a short-lived fork,
so in-process prometheus_client metrics would die with it. Gauges (queue depths, runs by status)
are read from Redis and the database when Prometheus scrapes. A Redis FLUSHALL resets the counters,
which Prometheus treats like any counter reset. django-rq's own collector (workers, jobs per
registry) is served alongside.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.db.models import Count
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis.exceptions import RedisError

from jobs.connection import get_queue, get_redis
from jobs.models import JobRun

log = logging.getLogger(__name__)

KEY = "studyapp:metrics"
# Seconds; from a one-page extraction to a long graph build.
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
_SEP = "|"


def _bump(*fields: tuple[str, int | float]) -> None:
    """Add to counters (a float amount makes a float counter); metrics never fail the work they describe."""
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            for field, amount in fields:
                if isinstance(amount, float):
                    pipe.hincrbyfloat(KEY, field, amount)
                else:
                    pipe.hincrby(KEY, field, amount)
            pipe.execute()
    except RedisError as exc:
        log.debug("could not record metrics: %s", exc)


def _field(*parts: object) -> str:
    return _SEP.join(str(p) for p in parts)


def record_attempt(kind: str) -> None:
    _bump((_field("attempts", kind), 1))


def record_rate_limit_wait(kind: str) -> None:
    _bump((_field("ratelimit", kind), 1))


def record_tokens(kind: str, *, prompt: int, completion: int) -> None:
    _bump((_field("tokens", kind, "prompt"), int(prompt)), (_field("tokens", kind, "completion"), int(completion)))


def record_finished(kind: str, status: str, duration_s: float | None) -> None:
    fields = [(_field("finished", kind, status), 1)]
    if duration_s is not None:
        bucket = next((str(b) for b in DURATION_BUCKETS if duration_s <= b), "+Inf")
        fields += [(_field("duration_bucket", kind, bucket), 1), (_field("duration_count", kind), 1),
                   (_field("duration_sum", kind), float(round(max(duration_s, 0.0), 6)))]
    _bump(*fields)


def _counters() -> dict[str, float]:
    try:
        raw = get_redis().hgetall(KEY)
    except RedisError:
        return {}
    return {k.decode(): float(v) for k, v in raw.items()}


class JobsCollector:
    """What /metrics shows about queues and runs (collected at scrape time)."""

    def collect(self):
        yield from self._queues()
        yield from self._runs()
        yield from self._counters()

    def _queues(self):
        depth = GaugeMetricFamily("studyapp_queue_depth", "Jobs waiting in each RQ queue", labels=["queue"])
        scheduled = GaugeMetricFamily("studyapp_queue_scheduled", "Jobs waiting for a retry or a rate-limit slot",
                                      labels=["queue"])
        paused = GaugeMetricFamily("studyapp_processing_paused", "1 while workers are suspended (rq suspend)")
        try:
            from rq import suspension

            for name in settings.JOB_QUEUE_NAMES:
                queue = get_queue(name)
                depth.add_metric([name], queue.count)
                scheduled.add_metric([name], queue.scheduled_job_registry.count)
            paused.add_metric([], 1 if suspension.is_suspended(get_redis()) else 0)
        except RedisError as exc:
            log.warning("metrics: Redis unavailable: %s", exc)
        yield depth
        yield scheduled
        yield paused

    def _runs(self):
        runs = GaugeMetricFamily("studyapp_job_runs", "JobRun rows by kind and status", labels=["kind", "status"])
        for row in JobRun.objects.values("kind", "status").annotate(n=Count("id")).order_by():
            runs.add_metric([row["kind"], row["status"]], row["n"])
        dead = GaugeMetricFamily("studyapp_dead_letters", "Failed runs not requeued or discarded")
        dead.add_metric([], JobRun.objects.filter(status=JobRun.Status.FAILED, discarded_at__isnull=True).count())
        yield runs
        yield dead

    def _counters(self):
        counters = _counters()
        finished = CounterMetricFamily("studyapp_job_runs_finished", "Runs that ended, by kind and outcome",
                                       labels=["kind", "status"])
        attempts = CounterMetricFamily("studyapp_job_attempts", "Attempts started, by kind", labels=["kind"])
        waits = CounterMetricFamily("studyapp_rate_limit_waits", "Times a run waited for a rate-limit slot",
                                    labels=["kind"])
        tokens = CounterMetricFamily("studyapp_provider_tokens", "AI provider tokens used", labels=["kind", "type"])
        buckets: dict[str, dict[str, float]] = defaultdict(dict)
        sums: dict[str, float] = {}
        for field, value in sorted(counters.items()):
            name, *labels = field.split(_SEP)
            if name == "finished":
                finished.add_metric(labels, value)
            elif name == "attempts":
                attempts.add_metric(labels, value)
            elif name == "ratelimit":
                waits.add_metric(labels, value)
            elif name == "tokens":
                tokens.add_metric(labels, value)
            elif name == "duration_bucket":
                buckets[labels[0]][labels[1]] = value
            elif name == "duration_sum":
                sums[labels[0]] = value
        duration = HistogramMetricFamily("studyapp_job_run_duration_seconds",
                                         "Time from a run's first start to its end, by kind", labels=["kind"])
        for kind, counts in sorted(buckets.items()):
            cumulative, total = [], 0.0
            for bound in [*map(str, DURATION_BUCKETS), "+Inf"]:
                total += counts.get(bound, 0.0)
                cumulative.append((bound, total))
            duration.add_metric([kind], cumulative, sum_value=sums.get(kind, 0.0))
        yield from (finished, attempts, waits, tokens, duration)


def render() -> bytes:
    """The /metrics page: ours and django-rq's collectors, in Prometheus' text format."""
    from django_rq.contrib.prometheus import RQCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(JobsCollector())
    if RQCollector is not None:
        registry.register(RQCollector())
    return generate_latest(registry)
