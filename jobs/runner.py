"""The function RQ executes for every job: `run_job(run_id)`.

It owns the run's life cycle, so job functions (jobs/tasks.py) stay thin:
  claim the run (a conditional UPDATE, so a job delivered twice runs once) -> call the task with a
  progress reporter -> record the outcome.
Errors are classified (studyapp.core.errors):
  PermanentError  fail at once with the error's message (shown to the student);
  RateLimited     wait for the limiter's delay without spending an attempt;
  (before the claim) an owner over their fair share of AI work waits too, attempts untouched
  (jobs/fairness.py);
  TransientError  retry with the policy's backoff until the attempts are spent;
  anything else   as transient (it may be a blip), then failed once the budget is spent.
Waiting is done by returning rq's Retry(interval=[delay]): RQ keeps the job in its scheduled
registry and a worker started --with-scheduler moves it back. A final failure raises, so RQ's
failed registry shows the same runs as our dead-letter view.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Retry, get_current_job
from rq.timeouts import JobTimeoutException

from jobs import events, fairness, metrics
from jobs.fanout import WaitForParts
from jobs.lease import LeaseKeeper, LeaseLost, new_lease
from jobs.logcontext import job_context, set_attempt
from jobs.models import JobRun
from jobs.policies import is_fair_shared, policy_for
from jobs.progress import META_KEY, ProgressReporter, set_meta_stage
from jobs.submit import discard_job
from jobs.tasks import TASKS
from studyapp.core.errors import Cancelled, PermanentError, RateLimited, TransientError

log = logging.getLogger(__name__)

# RQ counts returned Retry objects against Retry.max; our budget lives in JobRun.attempts instead
# (rate-limit waits are not attempts), so RQ's own cap is set out of reach.
_UNBOUNDED = 1_000_000
# How long a run waits before looking again at an upstream run that has not finished.
_UPSTREAM_POLL_S = 5


class RunFailed(Exception):
    """Raised to RQ when a run ends failed or cancelled, so RQ records the job as failed too."""


def close_inherited_connections() -> None:
    """A forked work-horse must not use the worker's database connections (django-rq #216, #559).

    Called by jobs.worker.Worker in the horse before it runs a job. The parent closes its own
    connections before forking, so these are already unused; closing them here makes Django open
    fresh ones.
    """
    for conn in connections.all(initialized_only=True):
        conn.close()


def run_job(run_id: str) -> Any:
    job = get_current_job()
    kind = (job.meta.get("kind") if job is not None else None) or "-"
    with job_context(run_id=str(run_id), kind=kind, attempt=0):
        return _run(run_id, job)


def _run(run_id: str, job) -> Any:
    kind = job.meta.get("kind") if job is not None else None
    # A fair-shared run (AI work) is admitted per owner before its claim: the step-by-step path.
    run = None if kind is None or is_fair_shared(kind) else _claim_at_once(run_id, job)
    if run is not None:
        set_attempt(run.attempts)
        metrics.record_attempt(run.kind)
        return _execute(run, job)
    try:
        # A plain primary-key get: .first() would add an ORDER BY, which costs more than the
        # query itself for a job that does little.
        run = JobRun.objects.get(pk=run_id)
    except JobRun.DoesNotExist:
        log.info("run %s: nothing to do (no such run)", run_id)
        return None
    if run.is_finished:
        log.info("run %s: nothing to do (%s)", run_id, run.status)
        return None
    if run.cancel_requested:
        return _end(run, job, JobRun.Status.CANCELLED, "cancelled by the user")
    waiting = _wait_for_upstream(run, job)
    if waiting is not None:
        return waiting
    with fairness.admission(run) as wait:
        if wait is not None:
            return _retry_later(run, job, wait.delay_s, wait.stage, spent_attempt=False)
        set_attempt(run.attempts + 1)
        run = _claim(run, job)  # inside the admission: the next one of this owner counts this claim
    if run is None:
        return None
    metrics.record_attempt(run.kind)
    return _execute(run, job)


def _wait_for_upstream(run: JobRun, job) -> Any:
    """None when the run may start; otherwise what to return to RQ (a Retry, or a failure)."""
    if run.upstream_id is None:
        return None
    upstream = run.upstream
    if upstream is None or upstream.status == JobRun.Status.SUCCEEDED:
        return None
    if upstream.status in JobRun.FINISHED:
        return _end(run, job, JobRun.Status.FAILED, upstream_failure(upstream))
    return _retry_later(run, job, _UPSTREAM_POLL_S, f"waiting for {_label(upstream.kind)}", spent_attempt=False)


def _claim_sql() -> str:
    table = connection.ops.quote_name(JobRun._meta.db_table)
    return (
        f"UPDATE {table} SET status = %s, attempts = attempts + 1, started_at = COALESCE(started_at, %s), "
        "next_attempt_at = NULL, worker_name = %s, stage = %s, updated_at = %s, lease_token = %s, "
        "lease_expires_at = %s "
        "WHERE id = %s AND status IN (%s, %s) AND cancel_requested = %s AND upstream_id IS NULL "
        "RETURNING *"
    )


def _claim_at_once(run_id: str, job) -> JobRun | None:
    """The common case in one statement: read and claim a queued run that waits for nothing.

    None when the run is not that simple (missing, finished, cancelled, behind an upstream run, or
    claimed elsewhere); run_job then takes the step-by-step path, which says why. One
    UPDATE ... RETURNING (SQLite >= 3.35 and PostgreSQL) instead of a SELECT and an UPDATE halves
    the database work of a short job; a raw queryset still applies each field's converters.
    """
    try:
        pk = JobRun._meta.pk.get_db_prep_value(uuid.UUID(str(run_id)), connection)
    except ValueError:
        return None
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    token, expires = new_lease()
    params = [JobRun.Status.RUNNING.value, now, getattr(job, "worker_name", "") or "", "starting", now,
              token, connection.ops.adapt_datetimefield_value(expires),
              pk, JobRun.Status.QUEUED.value, JobRun.Status.WAITING.value, False]
    # list(): read the row to the end, so SQLite finishes the statement (and its write) at once.
    claimed = list(JobRun.objects.raw(_claim_sql(), params))
    return claimed[0] if claimed else None


def upstream_failure(upstream: JobRun) -> str:
    """Why a run cannot start when the run it waits for ended without success."""
    return f"{_label(upstream.kind)} {upstream.status}: {upstream.error or upstream.status}"


def _claim(run: JobRun, job) -> JobRun | None:
    now = timezone.now()
    token, expires = new_lease()
    claimed = JobRun.objects.filter(
        pk=run.pk, status__in=(JobRun.Status.QUEUED, JobRun.Status.WAITING), cancel_requested=False
    ).update(
        status=JobRun.Status.RUNNING,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), now),
        next_attempt_at=None,
        worker_name=getattr(job, "worker_name", "") or "",
        stage="starting",
        updated_at=now,
        lease_token=token,
        lease_expires_at=expires,
    )
    if not claimed:
        log.info("run %s is being handled elsewhere or has ended; skipping", run.pk)
        return None
    # The conditional update succeeded, so the row now holds exactly these values.
    run.status, run.attempts, run.started_at = JobRun.Status.RUNNING, run.attempts + 1, run.started_at or now
    run.worker_name, run.stage, run.next_attempt_at, run.updated_at = getattr(job, "worker_name", "") or "", "starting", None, now
    run.lease_token, run.lease_expires_at = token, expires
    return run


def _execute(run: JobRun, job) -> Any:
    with LeaseKeeper(run) as lease:
        try:
            return _execute_holding(run, job, lease)
        except LeaseLost:
            log.warning("run %s: this execution lost its lease; it stops and records nothing", run.pk)
            return None


def _execute_holding(run: JobRun, job, lease: LeaseKeeper) -> Any:
    task = TASKS[run.kind]
    progress = ProgressReporter(run, job, lease=lease)
    try:
        result = task.run(run, progress)
    except Cancelled as exc:
        return _end(run, job, JobRun.Status.CANCELLED, exc.message)
    except RateLimited as exc:  # a limit, or the transport itself away: the system's wait, not the student's
        return _retry_later(run, job, exc.retry_after, exc.stage, spent_attempt=True, refund=True)
    except WaitForParts as exc:  # a big document's parent run between two looks (jobs.fanout): not an attempt
        return _retry_later(run, job, exc.delay_s, exc.stage, spent_attempt=True, refund=True, rate_limited=False)
    except PermanentError as exc:
        return _end(run, job, JobRun.Status.FAILED, exc.message, operator_note=exc.operator_detail)
    except (TransientError, JobTimeoutException, Exception) as exc:  # noqa: B014 - the order documents intent
        return _after_transient(run, job, exc)
    _succeed(run, job, result)
    return result


def _after_transient(run: JobRun, job, exc: BaseException) -> Any:
    message = _describe(run, exc)
    log.warning("run %s attempt %s/%s failed: %s", run.pk, run.attempts, run.max_attempts, message,
                exc_info=not isinstance(exc, (TransientError, JobTimeoutException)))
    if run.attempts >= run.max_attempts:
        return _end(run, job, JobRun.Status.FAILED, message, for_student=_student_message(run, exc, message))
    retry_after = getattr(exc, "retry_after", None)
    delay = policy_for(run.kind).backoff_s(run.attempts, retry_after=retry_after)
    return _retry_later(run, job, delay, f"retrying in {delay}s", spent_attempt=True, error=message)


def _student_message(run: JobRun, exc: BaseException, message: str) -> str:
    """Expected failures say what happened; a bug's details (paths, types) stay on the run."""
    if isinstance(exc, (TransientError, JobTimeoutException)):
        return message
    return f"Processing failed after {run.attempts} attempt(s) because of an internal error; it has been logged."


def _describe(run: JobRun, exc: BaseException) -> str:
    if isinstance(exc, JobTimeoutException):
        return f"the job took longer than its {policy_for(run.kind).timeout_s} s limit"
    if isinstance(exc, TransientError):
        return exc.message
    return f"unexpected error: {type(exc).__name__}: {exc}"[:2000]


def _retry_later(run: JobRun, job, delay: float, stage: str, *, spent_attempt: bool, refund: bool = False,
                 error: str = "", rate_limited: bool = True) -> Retry | None:
    """Park the run in RQ's scheduled registry for `delay` seconds; `refund` gives the attempt back."""
    delay_s = max(1, int(round(delay)))
    fields: dict[str, Any] = {
        "status": JobRun.Status.WAITING,
        "stage": stage,
        "next_attempt_at": timezone.now() + timedelta(seconds=delay_s),
        "updated_at": timezone.now(),
    }
    if error:
        fields["error"] = error
    if refund and spent_attempt:
        fields["attempts"] = F("attempts") - 1
    fields.update(lease_token="", lease_expires_at=None)
    # First: the database holds the truth if Redis is away. Only while this execution holds the run.
    if not JobRun.objects.filter(pk=run.pk, lease_token=run.lease_token).update(**fields):
        log.warning("run %s: not parked here (%s): another execution holds it", run.pk, stage)
        return None
    try:
        if refund and spent_attempt and rate_limited:
            metrics.record_rate_limit_wait(run.kind)
        set_meta_stage(job, stage, retry_in_s=delay_s)
    except RedisError as exc:  # the reconciler puts the run back once Redis answers again
        log.warning("run %s: waiting, but Redis is unavailable to say so (%s)", run.pk, exc)
    return Retry(max=_UNBOUNDED, interval=[delay_s])


def _succeed(run: JobRun, job, result: Any) -> None:
    now = timezone.now()
    if not JobRun.objects.filter(pk=run.pk, lease_token=run.lease_token).update(
        status=JobRun.Status.SUCCEEDED, stage="done", percent=100.0, error="", finished_at=now, updated_at=now,
        lease_token="", lease_expires_at=None,
    ):
        raise LeaseLost(f"run {run.pk} lost its lease before recording success")
    log.info("run %s succeeded (attempt %s)", run.pk, run.attempts)
    if job is not None and META_KEY in job.meta:
        # Only a job that reported progress has a snapshot in job.meta that would now be stale
        # for RQ's tools; a job that never reported any saves the Redis round trip.
        set_meta_stage(job, "done", percent=100.0)
    _after_end(run, JobRun.Status.SUCCEEDED, now)


def _end(run: JobRun, job, status: str, message: str, *, for_student: str | None = None,
         operator_note: str = "") -> None:
    """Record a final failure or cancellation, tell the subject, and fail the RQ job."""
    if operator_note:
        log.warning("run %s failed: %s (for operators: %s)", run.pk, message, operator_note)
    if not end_run(run, status, message, for_student=for_student, operator_note=operator_note,
                   lease_token=run.lease_token):
        log.warning("run %s: not ended here (%s): another execution holds it, or it has ended", run.pk, message)
        return None
    set_meta_stage(job, status, message=message)
    raise RunFailed(message)


def end_run(run: JobRun, status: str, message: str, *, for_student: str | None = None,
            from_statuses=JobRun.UNFINISHED, operator_note: str = "", lease_token: str | None = None) -> bool:
    """End an unfinished run failed or cancelled and tell its subject. The one place runs end
    without success (runner, recovery, cancel). False if the run was no longer in `from_statuses`.

    `message` stays on the run (operators see it); the subject gets `for_student` if given. The
    runner passes its `lease_token`: an execution that lost its run ends nothing.
    """
    now = timezone.now()
    # One transaction: whoever sees the run ended also sees its subject told (a document failed
    # with the reason), never a finished run beside a document still "processing".
    with transaction.atomic():
        rows = JobRun.objects.filter(pk=run.pk, status__in=from_statuses)
        if lease_token is not None:
            rows = rows.filter(lease_token=lease_token)
        ended = rows.update(
            status=status, stage=status, error=message, message=message[:500], finished_at=now, updated_at=now,
            next_attempt_at=None, operator_note=operator_note, lease_token="", lease_expires_at=None,
        )
        if ended:
            run.refresh_from_db()
            _tell_subject(run, for_student or message)
    if ended:
        _after_end(run, status, now)
    return bool(ended)


def _tell_subject(run: JobRun, message: str) -> None:
    """The subject's own failure hook, in a savepoint: if it breaks (say the subject was deleted
    meanwhile) the run still ends; the error is logged, not lost."""
    try:
        with transaction.atomic():
            TASKS[run.kind].on_failure(run, message)
    except Exception:
        log.exception("the failure hook of run %s (%s) failed; the run ended anyway", run.id, run.kind)


def _after_end(run: JobRun, status: str, finished_at) -> None:
    """Count the outcome, end the runs waiting for this one, and tell whoever listens (webhooks)."""
    duration = (finished_at - run.started_at).total_seconds() if run.started_at else None
    metrics.record_finished(run.kind, status, duration)
    fairness.slot_freed(run)
    _end_downstream(run)
    events.run_ended(run)


def _end_downstream(run: JobRun) -> None:
    """Runs waiting for one that failed fail now, with its reason, rather than when they reach the
    front of their queue (minutes later under load); theirs in turn, and so on. (A cancelled run's
    downstream runs are cancelled by jobs.control with the same reason.)"""
    if run.status != JobRun.Status.FAILED:
        return
    waiting = (JobRun.Status.QUEUED, JobRun.Status.WAITING)
    for downstream in run.downstream.filter(status__in=waiting):
        if end_run(downstream, JobRun.Status.FAILED, upstream_failure(run), from_statuses=waiting):
            discard_job(downstream)


def _label(kind: str) -> str:
    labels = {"extract_document": "extraction", "extract_pages": "page-range extraction", "generate_graph": "graph generation",
              "explain_connection": "explanation"}
    return labels.get(kind, kind.replace("_", " "))
