"""Asking for background work: write the JobRun, enqueue on commit.

`submit` is the only way interfaces ask for work. The JobRun row is written in the caller's
transaction and the RQ job (id = JobRun id) is enqueued only after that transaction commits, so a
worker never sees a run the database does not have. If Redis is down at that moment the run stays
queued in the database and the reconciler enqueues it later: nothing submitted is lost.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import nullcontext

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from pydantic import ValidationError
from redis.exceptions import RedisError

from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Dependency, Job

from jobs.connection import get_queue, get_redis
from jobs.models import JobRun
from jobs.policies import Tier, policy_for
from studyapp.core.errors import PermanentError

log = logging.getLogger(__name__)


class InvalidPayload(PermanentError):
    """The options given for a job are not valid."""


def idempotency_key(kind: str, subject: models.Model, payload: dict) -> str:
    """What the run computes: the kind, its subject and its options (canonical JSON)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return f"{kind}:{subject._meta.label_lower}:{subject.pk}:{digest}"


def submit(
    kind: str,
    subject: models.Model,
    owner,
    payload: dict | None = None,
    *,
    upstream: JobRun | None = None,
    tier: Tier | None = None,
) -> JobRun:
    """Ask for `kind` work on `subject`; return the new run, or the unfinished run for the same work.

    The queue is the kind's group at the tier the owner's plan gives (JobPolicy.tier_for); an
    explicit `tier` wins (operators, tests).

    Raises:
        InvalidPayload: the payload does not match the kind's schema.
        ValueError: unknown kind.
    """
    policy = policy_for(kind)
    options = _validated(policy.payload, payload or {})
    key = idempotency_key(kind, subject, options)
    fields = dict(
        kind=kind,
        subject_type=ContentType.objects.get_for_model(subject),
        subject_id=subject.pk,
        owner=owner,
        upstream=upstream,
        payload=options,
        idempotency_key=key,
        queue=policy.queue_name(tier or policy.tier_for(getattr(owner, "plan", None))),
        max_attempts=policy.max_attempts,
        stage="queued",
        enqueued_at=timezone.now(),  # cleared again if Redis cannot take the job
    )
    # Insert first: the partial unique index on unfinished keys is what makes submit idempotent
    # (also between two requests at the same moment), so the common case costs one INSERT.
    # Inside the caller's transaction a duplicate must roll back only its savepoint; in autocommit
    # the INSERT is a transaction of its own and the job can be enqueued at once.
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else nullcontext():
            run = JobRun.objects.create(**fields)
    except IntegrityError:
        existing = _unfinished(key)
        if existing is None:
            raise  # another constraint failed
        return existing
    if in_transaction:
        transaction.on_commit(lambda: enqueue_run(run), robust=True)
    else:
        enqueue_run(run)
    return run


def _validated(schema, payload: dict) -> dict:
    try:
        return schema.model_validate(payload).model_dump(mode="json")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in exc.errors())
        raise InvalidPayload(f"invalid options: {problems}") from None


def _unfinished(key: str) -> JobRun | None:
    return JobRun.objects.filter(idempotency_key=key, status__in=JobRun.UNFINISHED).first()


def enqueue_run(run: JobRun) -> bool:
    """Put the run's RQ job (id = run id) on its queue. Returns False when Redis is unreachable.

    The run waits for its upstream run through an RQ dependency with allow_failure, so it always
    gets to run: if the upstream failed, the runner fails it with the upstream's reason instead of
    leaving it DEFERRED forever.
    """
    from jobs.runner import run_job  # the runner imports this module

    policy = policy_for(run.kind)
    queue = get_queue(run.queue)
    options = dict(
        args=(str(run.id),),
        job_id=str(run.id),
        timeout=policy.timeout_s,
        result_ttl=policy.result_ttl_s,
        failure_ttl=policy.failure_ttl_s,
        description=f"{run.kind} {run.subject_type.model} {run.subject_id}",
        meta={"kind": run.kind, "owner_id": run.owner_id, "subject": f"{run.subject_type.model}:{run.subject_id}"},
    )
    try:
        queue.enqueue_call(run_job, depends_on=_upstream_dependency(run), **options)
    except RedisError as exc:
        log.warning("could not enqueue run %s (%s); the reconciler will retry", run.id, exc)
        JobRun.objects.filter(pk=run.pk).update(enqueued_at=None)
        return False
    if run.enqueued_at is None:  # re-enqueued by recovery or a retry
        JobRun.objects.filter(pk=run.pk).update(enqueued_at=timezone.now())
    return True


def _upstream_dependency(run: JobRun) -> Dependency | None:
    upstream = run.upstream
    if upstream is None or upstream.is_finished:
        return None
    if not Job.exists(str(upstream.id), connection=get_redis(upstream.queue)):
        # Redis lost the upstream job; the reconciler re-enqueues it, and this run waits for it
        # in the runner (which checks the upstream's row) rather than in RQ.
        return None
    return Dependency(jobs=[str(upstream.id)], allow_failure=True)


def wake_run(run: JobRun) -> bool:
    """Move a waiting run's job from the scheduled registry onto its queue now. The ZREM decides:
    if the scheduler moved it meanwhile, nothing more is done (a second delivery would be a
    no-op anyway: the runner claims a run once)."""
    try:
        queue = get_queue(run.queue)
        if not queue.scheduled_job_registry.remove(str(run.pk)):
            return False
        queue.enqueue_job(Job.fetch(str(run.pk), connection=get_redis(run.queue)))
        return True
    except (NoSuchJobError, RedisError) as exc:
        log.info("could not wake run %s (%s); its own poll will", run.pk, exc)
        return False


def discard_job(run: JobRun) -> None:
    """Take an ended run's RQ job off its queue, deferred or scheduled registry (if Redis still has it):
    it would only start to find its run over."""
    try:
        Job.fetch(str(run.pk), connection=get_redis(run.queue)).cancel()
    except (NoSuchJobError, InvalidJobOperation, RedisError):
        pass  # gone already; and the runner claims no ended run anyway
