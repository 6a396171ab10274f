"""Operator and student actions on runs: cancel and retry."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from jobs.connection import get_redis
from jobs.models import JobRun
from jobs.runner import end_run
from jobs.submit import enqueue_run
from jobs.tasks import TASKS
from studyapp.core.errors import Conflict

log = logging.getLogger(__name__)


def cancel_run(run: JobRun) -> bool:
    """Cancel an unfinished run (and the runs waiting for it). Returns False if it had finished.

    A queued or waiting run ends cancelled at once. A running one is asked to stop: it stops at its
    next progress point, and a forking worker's work-horse is also stopped through RQ at once.
    """
    updated = JobRun.objects.filter(pk=run.pk, status__in=JobRun.UNFINISHED).update(
        cancel_requested=True, updated_at=timezone.now()
    )
    if not updated:
        return False
    run.refresh_from_db()
    if run.status == JobRun.Status.RUNNING:
        _stop_running_job(run)
    else:
        _cancel_now(run)
    for downstream in run.downstream.filter(status__in=JobRun.UNFINISHED):
        cancel_run(downstream)
    return True


def _cancel_now(run: JobRun) -> None:
    end_run(run, JobRun.Status.CANCELLED, "cancelled by the user",
            from_statuses=(JobRun.Status.QUEUED, JobRun.Status.WAITING))
    try:
        Job.fetch(str(run.id), connection=get_redis(run.queue)).cancel()
    except (NoSuchJobError, InvalidJobOperation, RedisError):
        pass  # the runner also checks cancel_requested before it starts


def _stop_running_job(run: JobRun) -> None:
    try:
        send_stop_job_command(get_redis(run.queue), str(run.id))
    except (InvalidJobOperation, NoSuchJobError, RedisError) as exc:
        log.info("could not send stop to run %s (%s); it stops at its next progress point", run.id, exc)


def retry_run(run: JobRun) -> bool:
    """Put a failed or cancelled run back on its queue with a fresh attempt budget.

    Downstream runs that ended because of it are retried too, behind it.
    """
    with transaction.atomic():
        reset = JobRun.objects.filter(pk=run.pk, status__in=(JobRun.Status.FAILED, JobRun.Status.CANCELLED)).update(
            status=JobRun.Status.QUEUED, attempts=0, error="", message="", stage="queued (retry)", percent=0.0,
            cancel_requested=False, finished_at=None, next_attempt_at=None, updated_at=timezone.now(),
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
