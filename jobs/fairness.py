"""Per-student fairness for AI work: who may start now (the rules are in jobs/policies.py).

The runner asks `admission(run)` before it claims a run of a fair-shared kind. Two limits, both
per owner:
- running: at most AI_MAX_RUNNING_PER_USER of the owner's fair-shared runs RUNNING at once,
  counted from the JobRun rows (the truth; nothing to leak when a worker dies: a dead worker's run
  counts until recovery ends or re-queues it, about a minute);
- per hour: at most AI_JOBS_PER_HOUR_PER_USER runs started in any hour, by the `limits` moving
  window in Redis (jobs.ratelimit), charged once per run at its first start (retries are free).

Race safety: the count and the claim happen under one Redis lock per owner, so two workers
admitting the same owner's runs at once take turns, and the second counts the first's claim
(the claim is committed before the lock is released: the runner runs in autocommit). A run that
finishes lowers the count without the lock, which can only under-admit for a moment. If a holder
stalls past the lock's TTL (it only counts and updates one row) two claims could overlap: the cap
is a fairness bound, not a security boundary, and the next admissions recount.
"""

from __future__ import annotations

import logging
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from django.conf import settings
from limits import RateLimitItemPerHour
from redis.exceptions import LockError

from jobs.connection import get_redis
from jobs.models import JobRun
from jobs.policies import FAIR_SHARE_RECHECK_MAX_S, FAIR_SHARE_RECHECK_S, fair_shared_kinds, is_fair_shared
from jobs.ratelimit import shared_limiter
from jobs.submit import wake_run

log = logging.getLogger(__name__)

LOCK_KEY = "studyapp:fair-share:{}"
LOCK_TTL_S = 10  # far longer than a count and a one-row UPDATE; frees the lock if the holder dies
LOCK_WAIT_S = 5
RUNNING_STAGE = "waiting: other jobs of yours are running"
HOURLY_STAGE = "waiting: your hourly limit of AI jobs is reached"
BUSY_STAGE = "waiting: other jobs of yours are starting"


@dataclass(frozen=True)
class Wait:
    """Not now: look again in `delay_s` seconds; `stage` says why (shown to the student)."""

    delay_s: float
    stage: str


def recheck_delay(waiting_per_slot: float = 0.0) -> float:
    """When a run over the running cap looks again: later the more of the owner's runs wait."""
    base = min(FAIR_SHARE_RECHECK_MAX_S, FAIR_SHARE_RECHECK_S * max(1.0, waiting_per_slot))
    return base * (1 + random.random())


@contextmanager
def admission(run: JobRun) -> Iterator[Wait | None]:
    """Yields None when the run may start (claim it inside the block), else a Wait.

    Runs of kinds that are not fair-shared, or with both limits off, are admitted without a lock.
    """
    limits_on = settings.AI_MAX_RUNNING_PER_USER or settings.AI_JOBS_PER_HOUR_PER_USER
    if not is_fair_shared(run.kind) or not limits_on or run.status not in (JobRun.Status.QUEUED, JobRun.Status.WAITING):
        # Not ours to hold back; a run already running elsewhere (a job delivered twice) must not
        # be set waiting here: the claim refuses it.
        yield None
        return
    lock = get_redis().lock(LOCK_KEY.format(run.owner_id), timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S)
    if not lock.acquire():
        yield Wait(recheck_delay(), BUSY_STAGE)
        return
    try:
        yield _verdict(run)
    finally:
        try:
            lock.release()
        except LockError:  # it expired (the holder stalled): the next admission recounts anyway
            pass


def running_count(owner_id: int, *, excluding=None) -> int:
    """The owner's fair-shared runs that are running now (the one being admitted excluded)."""
    return _owners(owner_id, excluding).filter(status=JobRun.Status.RUNNING).count()


def waiting_count(owner_id: int, *, excluding=None) -> int:
    """The owner's fair-shared runs waiting for the running cap (the one being admitted excluded)."""
    return _owners(owner_id, excluding).filter(status=JobRun.Status.WAITING, stage=RUNNING_STAGE).count()


def _owners(owner_id: int, excluding):
    runs = JobRun.objects.filter(owner_id=owner_id, kind__in=fair_shared_kinds())
    return runs.exclude(pk=excluding) if excluding is not None else runs


def _verdict(run: JobRun) -> Wait | None:
    cap = settings.AI_MAX_RUNNING_PER_USER
    if cap and running_count(run.owner_id, excluding=run.pk) >= cap:
        return Wait(recheck_delay(waiting_count(run.owner_id, excluding=run.pk) / cap), RUNNING_STAGE)
    per_hour = settings.AI_JOBS_PER_HOUR_PER_USER
    if per_hour and run.started_at is None:  # the first start of this run: charge one job
        item = RateLimitItemPerHour(per_hour)
        limiter = shared_limiter()
        if not limiter.hit(item, "ai-jobs", str(run.owner_id)):
            reset = limiter.get_window_stats(item, "ai-jobs", str(run.owner_id)).reset_time
            return Wait(max(1.0, reset - time.time()), HOURLY_STAGE)
    return None


def slot_freed(run: JobRun) -> None:
    """A fair-shared run ended: wake the owner's longest-waiting run held back by the running cap,
    so the owner's queue moves on at once instead of at its next look (up to a minute or two with
    many waiting). The look stays the safety net. Never raises: it must not fail the run that ended."""
    if not is_fair_shared(run.kind) or not settings.AI_MAX_RUNNING_PER_USER:
        return
    try:
        held = _owners(run.owner_id, run.pk).filter(status=JobRun.Status.WAITING, stage=RUNNING_STAGE)
        for candidate in held.order_by("next_attempt_at", "created_at")[:3]:
            if wake_run(candidate):  # False: its own look came first; try the next
                return
    except Exception:
        log.exception("could not wake a waiting run of owner %s; its own look will", run.owner_id)
