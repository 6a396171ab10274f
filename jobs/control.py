"""Operator and student actions on runs and queues: cancel, retry, dead letters, pause, drain.

The admin, the web UI and the API call these; none of them talks to RQ directly. Every action keeps
the JobRun rows and Redis in agreement: a run is never removed from Redis without its row saying
why (a drained job's run ends cancelled with the reason, it does not vanish).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from redis.exceptions import RedisError
from rq import suspension
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.worker import Worker as RQWorker

from jobs.connection import get_queue, get_redis
from jobs.models import JobRun
from jobs.runner import end_run
from jobs.submit import discard_job, enqueue_run
from jobs.tasks import TASKS
from studyapp.core.errors import Conflict

log = logging.getLogger(__name__)

CANCELLED_BY_USER = "cancelled by the user"


# --- cancel and retry ----------------------------------------------------------------------------


def cancel_run(run: JobRun, *, reason: str = CANCELLED_BY_USER) -> bool:
    """Cancel an unfinished run (and the runs waiting for it). Returns False if it had finished.

    A queued or waiting run ends cancelled at once, with `reason`. A running one is asked to stop:
    it stops at its next progress point, and a forking worker's work-horse is also stopped through
    RQ at once (the worker then records it: jobs.worker.Worker._handle_stopped_job).
    """
    return _cancel_tree(run, reason) > 0


def _cancel_tree(run: JobRun, reason: str) -> int:
    """Cancel the run and its unfinished downstream runs; returns how many were cancelled."""
    updated = JobRun.objects.filter(pk=run.pk, status__in=JobRun.UNFINISHED).update(
        cancel_requested=True, updated_at=timezone.now()
    )
    if not updated:
        return 0
    run.refresh_from_db()
    if run.status == JobRun.Status.RUNNING:
        _stop_running_job(run)
    else:
        _cancel_now(run, reason)
    return 1 + sum(_cancel_tree(downstream, reason)
                   for downstream in run.downstream.filter(status__in=JobRun.UNFINISHED))


def cancel_runs(runs: Iterable[JobRun], *, reason: str = CANCELLED_BY_USER) -> int:
    return sum(cancel_run(run, reason=reason) for run in runs)


def _cancel_now(run: JobRun, reason: str) -> None:
    end_run(run, JobRun.Status.CANCELLED, reason, from_statuses=(JobRun.Status.QUEUED, JobRun.Status.WAITING))
    discard_job(run)  # the runner also checks cancel_requested before it starts


def _stop_running_job(run: JobRun) -> None:
    try:
        send_stop_job_command(get_redis(run.queue), str(run.id))
    except (InvalidJobOperation, NoSuchJobError, RedisError) as exc:
        log.info("could not send stop to run %s (%s); it stops at its next progress point", run.id, exc)


def record_stopped(job_id: str) -> bool:
    """A work-horse was killed by RQ's stop command: end its run cancelled. False if it had ended."""
    run = JobRun.objects.filter(pk=job_id).first()
    if run is None or run.is_finished:
        return False
    reason = CANCELLED_BY_USER if run.cancel_requested else "stopped by an operator"
    ended = end_run(run, JobRun.Status.CANCELLED, reason)
    if ended:
        for downstream in run.downstream.filter(status__in=JobRun.UNFINISHED):
            cancel_run(downstream, reason=reason)
    return ended


def retry_run(run: JobRun) -> bool:
    """Put a failed or cancelled run back on its queue with a fresh attempt budget.

    Downstream runs that ended because of it are retried too, behind it.
    """
    with transaction.atomic():
        reset = JobRun.objects.filter(pk=run.pk, status__in=(JobRun.Status.FAILED, JobRun.Status.CANCELLED)).update(
            status=JobRun.Status.QUEUED, attempts=0, error="", operator_note="", message="", stage="queued (retry)",
            percent=0.0,
            cancel_requested=False, finished_at=None, next_attempt_at=None, discarded_at=None,
            updated_at=timezone.now(),
        )
        if not reset:
            return False
        run.refresh_from_db()
        TASKS[run.kind].on_retry(run)
        transaction.on_commit(lambda: _requeue(run), robust=True)
    for downstream in run.downstream.filter(status__in=(JobRun.Status.FAILED, JobRun.Status.CANCELLED)):
        retry_run(downstream)
    return True


def _requeue(run: JobRun) -> None:
    from jobs.recovery import discard_rq_job

    discard_rq_job(run)
    enqueue_run(run)


# --- dead letters ----------------------------------------------------------------------------------


def dead_letters() -> QuerySet[JobRun]:
    """Failed runs nobody has requeued or discarded yet, newest first."""
    return JobRun.objects.filter(status=JobRun.Status.FAILED, discarded_at__isnull=True).order_by("-finished_at")


def requeue_runs(runs: Iterable[JobRun]) -> int:
    """Requeue failed (or cancelled) runs with a fresh budget; returns how many went back."""
    return sum(retry_run(run) for run in runs)


def discard_runs(runs: Iterable[JobRun]) -> int:
    """Set failed runs aside: they stay for the record (status, error, attempts) but leave the
    dead-letter view, and their jobs leave RQ's failed registry. Returns how many were discarded."""
    from jobs.recovery import discard_rq_job

    discarded = 0
    for run in runs:
        if JobRun.objects.filter(pk=run.pk, status=JobRun.Status.FAILED, discarded_at__isnull=True).update(
                discarded_at=timezone.now()):
            discard_rq_job(run)
            discarded += 1
    return discarded


# --- pause, resume, drain --------------------------------------------------------------------------


def pause_processing() -> None:
    """Workers stop taking new jobs (rq suspend); jobs already running finish. Queues keep filling."""
    suspension.suspend(get_redis())


def resume_processing() -> None:
    suspension.resume(get_redis())


def processing_paused() -> bool:
    return bool(suspension.is_suspended(get_redis()))


@dataclass(frozen=True)
class DrainResult:
    queue: str
    removed: int  # jobs taken off the queue
    cancelled: int  # runs ended cancelled because of it (their dependents included)


def drain_queue(name: str, *, reason: str | None = None) -> DrainResult:
    """Empty one queue. The runs of the removed jobs end cancelled with the reason, and so do the
    runs waiting for them: nothing is lost silently. A job a worker takes meanwhile runs as usual.
    """
    reason = reason or f"cancelled: the {name} queue was drained by an operator"
    queue = get_queue(name)
    removed = cancelled = 0
    for job_id in queue.get_job_ids():
        if not queue.remove(job_id):
            continue  # a worker took it between the listing and now
        removed += 1
        run = JobRun.objects.filter(pk=job_id).first()
        if run is not None and run.status in (JobRun.Status.QUEUED, JobRun.Status.WAITING):
            cancelled += _cancel_tree(run, reason)
        elif run is None:
            _delete_job(job_id, name)  # not ours (e.g. a maintenance job): just gone
    log.warning("drained queue %s: %d job(s) removed, %d run(s) cancelled", name, removed, cancelled)
    return DrainResult(queue=name, removed=removed, cancelled=cancelled)


def _delete_job(job_id: str, queue_name: str) -> None:
    try:
        Job.fetch(job_id, connection=get_redis(queue_name)).delete(remove_from_queue=False)
    except NoSuchJobError:
        pass


def queue_overview(names: Iterable[str]) -> list[dict]:
    """Per queue: jobs waiting, running, scheduled, deferred and failed, and the workers reading it."""
    redis = get_redis()
    workers = RQWorker.all(connection=redis)
    rows = []
    for name in names:
        queue = get_queue(name)
        rows.append({
            "name": name,
            "queued": queue.count,
            "started": queue.started_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count,
            "deferred": queue.deferred_job_registry.count,
            "failed": queue.failed_job_registry.count,
            "workers": sum(1 for worker in workers if name in worker.queue_names()),
        })
    return rows


# --- REST API (issue 5) ----------------------------------------------------------------------
# The student-facing forms of cancel and retry: a refusal is a Conflict with a message to show.

def run_cancel(*, run: JobRun) -> JobRun:
    """Cancel the run (see cancel_run). Raises Conflict if it has already finished."""
    if not cancel_run(run):
        raise Conflict(f"This job has already finished ({run.status}); there is nothing to cancel.")
    run.refresh_from_db()
    return run


def run_retry(*, run: JobRun) -> JobRun:
    """Retry the run (see retry_run). Raises Conflict unless it failed or was cancelled and what it
    worked on still exists."""
    if run.status not in (JobRun.Status.FAILED, JobRun.Status.CANCELLED):
        raise Conflict(f"Only failed or cancelled jobs can be retried; this one is {run.status}.")
    if run.subject is None:
        raise Conflict("What this job worked on has been deleted, so it cannot be retried.")
    if not retry_run(run):
        raise Conflict("This job changed state meanwhile; look at it again.")
    run.refresh_from_db()
    return run
