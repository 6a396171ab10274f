"""The RQ worker classes the project runs (settings.RQ['WORKER_CLASS']).

Two additions to RQ's Worker:
- database connections never cross a fork: the worker closes its own before forking a
  work-horse, and the horse starts with fresh ones (django-rq #216, #559);
- every JOBS_RECOVERY_INTERVAL_S (not RQ's 600 s), maintenance also re-enqueues runs whose worker
  died; with a heartbeat every JOBS_HEARTBEAT_INTERVAL_S and JOBS_HEARTBEAT_GRACE_S of grace (not
  RQ's fixed 60 s), a kill -9 of worker and horse is recovered within about a minute.
"""

from __future__ import annotations

import logging

import rq
from django.conf import settings
from rq.exceptions import StopRequested
from django.db import connections

from redis.exceptions import RedisError

from jobs import lease
from jobs.control import record_stopped
from jobs.logcontext import job_context
from jobs.recovery import ALIVE_KEY, heartbeat_ttl_s, recover_lost_runs
from jobs.runner import close_inherited_connections

log = logging.getLogger(__name__)


class _RecoveringMixin:
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("maintenance_interval", settings.JOBS_RECOVERY_INTERVAL_S)
        kwargs.setdefault("job_monitoring_interval", settings.JOBS_HEARTBEAT_INTERVAL_S)
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # RQ runs maintenance only between dequeues, and an idle worker blocks for worker_ttl - 15
        # (~405 s): wake up often enough to look for lost runs on schedule.
        return max(1, min(self.worker_ttl - 15, settings.JOBS_RECOVERY_INTERVAL_S))

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        # RQ adds a fixed 60 s of grace; ours is a setting so that a dead worker is noticed sooner.
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(job.timeout - working_time, interval)
        return int(interval) + settings.JOBS_HEARTBEAT_GRACE_S

    def perform_job(self, job, queue, *args, **kwargs):
        # RQ's own lines about the job (started, succeeded, failed) carry the run too.
        with job_context(run_id=job.id, kind=(job.meta or {}).get("kind", "-"), attempt="-"):
            return super().perform_job(job, queue, *args, **kwargs)

    def handle_job_retry(self, job, queue, retry, started_job_registry, execution):
        # A run that waits (for parts, its upstream, a rate limit, a fair-share slot) returns RQ's
        # Retry, and RQ counts that as a failed job (`rq info`, rq_job_failed_total on /metrics):
        # an alert on failures would fire on every big upload. Waiting is not failing.
        self._waiting_is_not_failing = True
        try:
            super().handle_job_retry(job, queue, retry, started_job_registry, execution)
        finally:
            self._waiting_is_not_failing = False

    def increment_failed_job_count(self, pipeline=None):
        if not getattr(self, "_waiting_is_not_failing", False):
            super().increment_failed_job_count(pipeline=pipeline)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        try:
            recovered = recover_lost_runs()
            if recovered:
                log.warning("re-enqueued %d lost run(s): %s", len(recovered), ", ".join(recovered))
        except StopRequested:
            # RQ stops an idle worker by raising this from its SIGTERM handler; swallowing it here
            # would ignore the shutdown (the handler is then replaced, so it is not raised again).
            raise
        except Exception:  # maintenance must never take the worker down
            log.exception("recovering lost runs failed; will try again at the next maintenance")


class Worker(_RecoveringMixin, rq.Worker):
    """Forking worker: one work-horse process per job, killable on timeout or stop."""

    def maintain_heartbeats(self, job, execution):
        super().maintain_heartbeats(job, execution)
        # RQ's heartbeat only refreshes registry entries that still exist (ZADD XX): after a
        # FLUSHALL a live horse would leave no trace and the reconciler would start the run a
        # second time. This key comes back at the next heartbeat (jobs.recovery reads it).
        try:
            self.connection.set(ALIVE_KEY.format(job.id), self.name, ex=heartbeat_ttl_s())
        except RedisError:
            log.warning("could not write the liveness key of job %s", job.id)

    def _handle_stopped_job(self, job, queue, execution):
        # The horse was killed by RQ's stop command (jobs.control.cancel_run): the runner never
        # got to record it, so the worker does, at once rather than at the next reconcile.
        super()._handle_stopped_job(job, queue, execution)
        try:
            record_stopped(job.id)
        except Exception:
            log.exception("could not record the stop of job %s; the reconciler will", job.id)

    def fork_work_horse(self, job, queue):
        connections.close_all()
        super().fork_work_horse(job, queue)

    def main_work_horse(self, job, queue):
        close_inherited_connections()
        lease.IN_WORK_HORSE = True  # a horse whose worker dies ends itself (jobs/lease.py)
        super().main_work_horse(job, queue)


class SimpleWorker(_RecoveringMixin, rq.SimpleWorker):
    """In-process worker (tests, `manage.py process` fallback): no fork, same maintenance."""
