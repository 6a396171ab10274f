"""Finding runs that Redis lost or whose worker died, and putting them back on their queue.

A run is lost when the database says it is unfinished but Redis has no live job for it:
- running, but its RQ job is gone, ended without the runner recording an outcome (RQ marked it
  failed as abandoned, or stopped), or is STARTED with an expired heartbeat (worker and work-horse
  killed together: RQ itself would notice only after ~10 minutes);
- queued or waiting, but its RQ job is gone (Redis flushed or restarted empty) - after a grace
  period, because a run is written before its job is enqueued on commit.
Lost runs go back on their queue with the same id; the attempt the dead worker spent counts.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from jobs.connection import get_redis
from jobs.models import JobRun
from jobs.submit import enqueue_run

log = logging.getLogger(__name__)

ENQUEUE_GRACE = timedelta(seconds=30)
_ALIVE = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def recover_lost_runs() -> list[str]:
    """Re-enqueue every lost run (upstream runs first). Returns the ids it re-enqueued or ended."""
    handled = []
    # Running runs may have lost their worker at any moment; queued and waiting ones only matter
    # once the enqueue grace is over. A healthy backlog is not looked at again every interval.
    settled = Q(status__in=(JobRun.Status.QUEUED, JobRun.Status.WAITING),
                updated_at__lt=timezone.now() - ENQUEUE_GRACE)
    candidates = (JobRun.objects.filter(Q(status=JobRun.Status.RUNNING) | settled)
                  .select_related("subject_type").order_by("created_at"))
    for run in candidates:
        reason = why_lost(run)
        if reason:
            _recover(run, reason)
            handled.append(str(run.id))
    return handled


def why_lost(run: JobRun) -> str:
    """'' when Redis still holds the run's job alive; otherwise why the run is lost."""
    try:
        job = Job.fetch(str(run.id), connection=get_redis(run.queue))
    except NoSuchJobError:
        if run.status == JobRun.Status.RUNNING or _past_grace(run):
            return "Redis no longer has the job"
        return ""
    status = job.get_status(refresh=False)
    if run.status != JobRun.Status.RUNNING:
        return "" if status in _ALIVE or status == JobStatus.STARTED else f"its job is {status} in Redis"
    if status == JobStatus.STARTED:
        return "" if _heartbeat_alive(run) else "its worker stopped sending heartbeats"
    if status in _ALIVE:
        return ""
    return f"its worker died (job {status})"


def _past_grace(run: JobRun) -> bool:
    return run.updated_at < timezone.now() - ENQUEUE_GRACE


def _heartbeat_alive(run: JobRun) -> bool:
    """The started registry scores each execution with the time its heartbeat expires."""
    registry = StartedJobRegistry(run.queue, connection=get_redis(run.queue))
    job_id = str(run.id).encode()
    now = time.time()
    entries = get_redis(run.queue).zrange(registry.key, 0, -1, withscores=True)
    return any(member.split(b":")[0] == job_id and score > now for member, score in entries)


def _recover(run: JobRun, reason: str) -> None:
    if run.cancel_requested:
        _finish(run, JobRun.Status.CANCELLED, "cancelled by the user")
        return
    if run.status == JobRun.Status.RUNNING and run.attempts >= run.max_attempts:
        _finish(run, JobRun.Status.FAILED, f"the worker stopped unexpectedly {run.attempts} times; giving up")
        return
    log.warning("run %s (%s) is lost: %s; re-enqueueing", run.id, run.kind, reason)
    discard_rq_job(run)
    JobRun.objects.filter(pk=run.pk, status=run.status).update(
        status=JobRun.Status.QUEUED, stage=f"requeued: {reason}"[:120], updated_at=timezone.now()
    )
    enqueue_run(run)


def _finish(run: JobRun, status: str, message: str) -> None:
    from jobs.runner import end_run

    end_run(run, status, message)
    discard_rq_job(run)


def discard_rq_job(run: JobRun) -> None:
    """Remove what is left of the old RQ job, so enqueueing the same id runs it once."""
    redis = get_redis(run.queue)
    try:
        Job.fetch(str(run.id), connection=redis).delete(remove_from_queue=True, delete_dependents=False)
    except NoSuchJobError:
        pass
    started_key = StartedJobRegistry(run.queue, connection=redis).key
    prefix = f"{run.id}".encode()
    stale = [m for m in redis.zrange(started_key, 0, -1) if m.split(b":")[0] == prefix]
    if stale:
        redis.zrem(started_key, *stale)
