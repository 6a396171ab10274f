"""The reconciler: compares unfinished JobRuns with Redis and repairs what Redis lost or left stuck.

The database is the truth and Redis the transport, so every unfinished run must have a live job in
Redis. Each pass (every worker's maintenance, every JOBS_RECOVERY_INTERVAL_S, and the `reconcile`
cron job every minute) looks at running runs and at queued or waiting runs older than a grace period
(a run is written before its job is enqueued on commit) and sorts out three cases:

- lost: the run's job is gone (Redis restarted without persistence, FLUSHALL), ended without the
  runner recording an outcome (RQ marked it abandoned or stopped), or is STARTED while its worker
  stopped sending heartbeats (worker and work-horse killed together; RQ itself would notice only
  after ~10 minutes), or waits in RQ's schedule well past its time (the worker holding RQ's
  scheduler lock was killed: the lock outlives it by a minute). The run goes back on its queue
  with the same id and its remaining attempts (the attempt a dead worker spent counts); the runs
  waiting for it are re-linked behind it.
- alive without a trace: a work-horse that is still running when Redis is flushed leaves no job
  behind. Its worker keeps writing a liveness key (jobs.worker), and a run is only called lost when
  neither that key nor RQ's heartbeat has been seen for a whole heartbeat period, so a live run is
  never started a second time.
- stuck: a job DEFERRED behind a run that has ended, or behind a job that no longer lists it as a
  dependent (RQ would never release it). Behind a success it is enqueued again; behind a failure or
  cancellation it ends with the upstream's reason, as the runner would have done.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import LockError, RedisError
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from jobs.connection import get_redis
from jobs.lease import is_live
from jobs.models import JobRun
from jobs.submit import enqueue_run

log = logging.getLogger(__name__)

ENQUEUE_GRACE = timedelta(seconds=30)  # the default of settings.JOBS_ENQUEUE_GRACE_S
_ALIVE = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
ALIVE_KEY = "studyapp:run-alive:{}"
_SUSPECT_KEY = "studyapp:run-suspect:{}"
_PASS_LOCK = "studyapp:reconcile-pass"
_PASS_LOCK_TTL_S = 300


def heartbeat_ttl_s() -> int:
    """How long a running run may go without any sign of life before it counts as lost."""
    return settings.JOBS_HEARTBEAT_INTERVAL_S + settings.JOBS_HEARTBEAT_GRACE_S


def recover_lost_runs() -> list[str]:
    """One reconciler pass. Returns the ids of the runs it re-enqueued, re-linked or ended.

    Every worker reconciles, and the scheduler too: one pass at a time (a lock in Redis), so two
    passes never read the same lost runs and both put them back. A pass that finds the lock taken
    does nothing; the next interval comes soon.
    """
    lock = get_redis().lock(_PASS_LOCK, timeout=_PASS_LOCK_TTL_S, blocking=False)
    try:
        if not lock.acquire():
            return []
    except RedisError as exc:  # nothing can be put back on a queue without Redis anyway
        log.warning("reconciler: Redis unavailable (%s); skipping this pass", exc)
        return []
    try:
        return _reconcile()
    finally:
        try:
            lock.release()
        except (LockError, RedisError):
            pass  # expired (a very long pass) or Redis gone: it frees itself


def _reconcile() -> list[str]:
    """Runs are taken oldest first, so an upstream run is back on its queue before the runs behind it."""
    handled: list[str] = []
    # Running runs may have lost their worker at any moment; queued and waiting ones only matter
    # once the enqueue grace is over. A healthy backlog is not looked at again every interval.
    settled = Q(status__in=(JobRun.Status.QUEUED, JobRun.Status.WAITING),
                updated_at__lt=timezone.now() - enqueue_grace())
    candidates = (JobRun.objects.filter(Q(status=JobRun.Status.RUNNING) | settled)
                  .select_related("subject_type", "upstream").order_by("created_at"))
    for run in candidates:
        if str(run.id) in handled:
            continue  # re-linked behind an upstream run earlier in this pass
        job = fetch_job(run)  # one read per run and pass: a big backlog is looked at every pass
        reason = why_lost(run, job)
        if reason:
            handled += _recover(run, reason)
            continue
        stuck = why_stuck(run, job)
        if stuck:
            handled += _unstick(run, stuck)
    return handled


reconcile = recover_lost_runs


def fetch_job(run: JobRun) -> Job | None:
    """The run's RQ job, or None when Redis has none (or only a fragment, e.g. a meta write that
    landed after a flush)."""
    try:
        return Job.fetch(str(run.id), connection=get_redis(run.queue))
    except NoSuchJobError:
        return None


_FETCH = object()


def why_lost(run: JobRun, job: Job | None = _FETCH) -> str:  # type: ignore[assignment]
    """'' when Redis still holds the run's job (given, or fetched) alive; otherwise why the run is lost."""
    if job is _FETCH:
        job = fetch_job(run)
    if run.status != JobRun.Status.RUNNING:
        if job is None:
            return "Redis no longer has the job" if _past_grace(run) else ""
        status = job.get_status(refresh=False)
        if status == JobStatus.SCHEDULED and _overdue(run):
            return "its wait ended but no scheduler put it back"
        return "" if status in _ALIVE or status == JobStatus.STARTED else f"its job is {status} in Redis"
    if is_live(run):
        return ""  # its executor renews the lease in the database: alive, whatever Redis says
    if run.lease_token:  # expired: whoever ran it has been silent for a whole lease
        return "" if _alive(run) else "its lease expired: the process running it is gone"
    if job is None:
        return "" if _alive(run) or _first_sighting(run) else "Redis no longer has the job"
    status = job.get_status(refresh=False)
    if status == JobStatus.STARTED:
        return "" if _alive(run) else "its worker stopped sending heartbeats"
    if status in _ALIVE:
        return ""
    # Ended in Redis without the runner recording it: the worker died (RQ marked the job
    # abandoned), or a second delivery of the job found the run claimed and finished at once
    # while the first horse still works. Only a silent worker means lost.
    return "" if _alive(run) else f"its worker died (job {status})"


def why_stuck(run: JobRun, job: Job | None = _FETCH) -> str:  # type: ignore[assignment]
    """'' unless the run's job is DEFERRED behind something that will never release it."""
    if run.status == JobRun.Status.RUNNING or not _past_grace(run):
        return ""
    if job is _FETCH:
        job = fetch_job(run)
    if job is None or job.get_status(refresh=False) != JobStatus.DEFERRED:
        return ""
    upstream = run.upstream
    if upstream is None:
        return "deferred without an upstream run"
    if upstream.is_finished:
        return f"deferred behind a {upstream.status} run"
    upstream_job = fetch_job(upstream)
    if upstream_job is None:
        return ""  # the upstream is lost itself; recovering it re-links this run
    if not get_redis(run.queue).sismember(upstream_job.dependents_key, str(run.id)):
        return "deferred behind a job that does not know it"
    return ""


def enqueue_grace() -> timedelta:
    return timedelta(seconds=settings.JOBS_ENQUEUE_GRACE_S)


def _overdue(run: JobRun) -> bool:
    """A wait (retry, rate limit, upstream) that ended more than the enqueue grace ago.

    RQ's scheduler moves due jobs back within a second, but its lock outlives a killed worker by
    60 s, and until then no one does: a 5 s wait for an upstream run became a minute's stall.
    """
    return run.next_attempt_at is not None and run.next_attempt_at < timezone.now() - enqueue_grace()


def _past_grace(run: JobRun) -> bool:
    return run.updated_at < timezone.now() - enqueue_grace()


def _alive(run: JobRun) -> bool:
    """A sign of life from the worker: its own liveness key or RQ's heartbeat in the started registry."""
    redis = get_redis(run.queue)
    if redis.exists(ALIVE_KEY.format(run.id)):
        return True
    registry = StartedJobRegistry(run.queue, connection=redis)
    job_id = str(run.id).encode()
    now = time.time()
    entries = redis.zrange(registry.key, 0, -1, withscores=True)
    return any(member.split(b":")[0] == job_id and score > now for member, score in entries)


def _first_sighting(run: JobRun) -> bool:
    """True the first time a running run is seen without any trace, and until a heartbeat period
    has passed since: a live work-horse re-creates its liveness key within one heartbeat interval."""
    redis = get_redis(run.queue)
    key = _SUSPECT_KEY.format(run.id)
    ttl = heartbeat_ttl_s()
    if redis.set(key, time.time(), nx=True, ex=ttl * 4):
        return True
    first_seen = float(redis.get(key) or 0)
    return time.time() - first_seen < ttl


def _recover(run: JobRun, reason: str) -> list[str]:
    if run.cancel_requested:
        _finish(run, JobRun.Status.CANCELLED, "cancelled by the user")
        return [str(run.id)]
    if run.status == JobRun.Status.RUNNING and run.attempts >= run.max_attempts:
        _finish(run, JobRun.Status.FAILED, f"the worker stopped unexpectedly {run.attempts} times; giving up")
        return [str(run.id)]
    if not _requeue(run, f"requeued: {reason}"):
        return []  # another pass (or the run itself) moved it first
    log.warning("run %s (%s) is lost: %s; re-enqueued (attempt %s of %s spent)", run.id, run.kind, reason,
                run.attempts, run.max_attempts)
    return [str(run.id), *_relink_downstream(run)]


def _requeue(run: JobRun, stage: str) -> bool:
    """Put the run back on its queue as queued (only if no one else moved it meanwhile).

    The row must be as this pass read it, updated_at included: every worker reconciles, and a
    queued run stays queued when another pass re-enqueues it, so the status alone would let two
    passes both discard and enqueue it (twice on the queue: run twice).
    """
    moved = JobRun.objects.filter(pk=run.pk, status=run.status, updated_at=run.updated_at).update(
        status=JobRun.Status.QUEUED, stage=stage[:120], next_attempt_at=None, updated_at=timezone.now(),
        lease_token="", lease_expires_at=None,  # an earlier execution, if it still runs, may write nothing more
    )
    if moved:
        discard_rq_job(run)
        enqueue_run(run)
    return bool(moved)


def _relink_downstream(run: JobRun) -> list[str]:
    """Enqueue the runs waiting for `run` again, so RQ releases them when its new job ends.

    Deleting a job deletes the list of jobs that depend on it: without this, they stay DEFERRED.
    """
    relinked = []
    for downstream in run.downstream.filter(status__in=(JobRun.Status.QUEUED, JobRun.Status.WAITING)) \
            .select_related("subject_type", "upstream").order_by("created_at"):
        if _requeue(downstream, f"re-linked behind its {run.kind} run"):
            relinked += [str(downstream.id), *_relink_downstream(downstream)]
    return relinked


def _unstick(run: JobRun, reason: str) -> list[str]:
    from jobs.runner import upstream_failure

    upstream = run.upstream
    if upstream is not None and upstream.status in (JobRun.Status.FAILED, JobRun.Status.CANCELLED):
        log.warning("run %s (%s) is stuck: %s; ending it", run.id, run.kind, reason)
        _finish(run, JobRun.Status.FAILED, upstream_failure(upstream))
        return [str(run.id)]
    if not _requeue(run, f"requeued: {reason}"):
        return []
    log.warning("run %s (%s) is stuck: %s; enqueued it again", run.id, run.kind, reason)
    return [str(run.id), *_relink_downstream(run)]


def _finish(run: JobRun, status: str, message: str) -> None:
    from jobs.runner import end_run

    end_run(run, status, message)
    discard_rq_job(run)


def discard_rq_job(run: JobRun) -> None:
    """Remove what is left of the old RQ job, so enqueueing the same id runs it once."""
    redis = get_redis(run.queue)
    try:
        job = fetch_job(run)
        if job is not None:
            _forget_expired_executions(job)
            job.delete(remove_from_queue=True, delete_dependents=False)
        else:
            redis.delete(Job.key_for(str(run.id)))  # a fragment left by a late meta write
        started_key = StartedJobRegistry(run.queue, connection=redis).key
        prefix = f"{run.id}".encode()
        stale = [m for m in redis.zrange(started_key, 0, -1) if m.split(b":")[0] == prefix]
        if stale:
            redis.zrem(started_key, *stale)
    except RedisError as exc:
        log.warning("could not clean up the RQ job of run %s: %s", run.id, exc)


def _forget_expired_executions(job: Job) -> None:
    """Drop the job's execution entries whose data has expired, so that job.delete() works.

    A killed worker's execution hash lives for the heartbeat TTL, its entry in the job's list of
    executions 60 s longer; for that minute RQ's job.delete() raises ValueError ("Execution ... not
    found in Redis"), which stopped every reconciler pass at the first such run (found by the
    chaos test, tests/jobs/test_chaos.py).
    """
    registry = job.execution_registry
    for execution_id in registry.get_execution_ids():
        if not job.connection.exists(Execution(execution_id, job.id, job.connection).key):
            job.connection.zrem(registry.key, execution_id)
