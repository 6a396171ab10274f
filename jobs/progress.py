"""Progress: job.meta first (cheap, live), mirrored to the JobRun row now and then.

job.meta is written at every stage change and at most every META_INTERVAL_S otherwise; the row at
every stage change and at most every JOBS_DB_PROGRESS_INTERVAL_S.
"extracting page 41/352" and "extracting page 42/352" are the same stage (digits are ignored when
comparing), so a 352-page document costs about one row write a second, not 352.
Each row write also looks at the run's cancel flag, so a cancel takes effect at the next progress
point.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import Job

from jobs.lease import LeaseKeeper, LeaseLost
from jobs.models import JobRun
from studyapp.core.errors import Cancelled

log = logging.getLogger(__name__)
_DIGITS = re.compile(r"\d+")
META_KEY = "progress"
# job.meta is rewritten at every stage change and otherwise at most this often: the admin polls
# once a second, and each write is a Redis round trip inside the work.
META_INTERVAL_S = 0.25


def stage_key(stage: str) -> str:
    return _DIGITS.sub("#", stage)


class ProgressReporter:
    """The `progress` callback handed to domain services by the runner."""

    def __init__(self, run: JobRun, job: Job | None, *, clock: Callable[[], float] = time.monotonic,
                 lease: LeaseKeeper | None = None):
        self.run = run
        self.job = job
        self.lease = lease
        self.clock = clock
        self.db_interval = settings.JOBS_DB_PROGRESS_INTERVAL_S
        self._last_key: str | None = None
        self._last_db_write = float("-inf")
        self._last_meta_write = float("-inf")
        self._stage_started = clock()
        self._stage_first_done: int | None = None

    def __call__(self, stage: str, *, done: int | None = None, total: int | None = None, message: str = "") -> None:
        if self.lease is not None:
            self.lease.check()  # a run taken over (or whose worker died) stops here
        now = self.clock()
        key = stage_key(stage)
        stage_changed = key != self._last_key
        if stage_changed:
            self._last_key, self._stage_started, self._stage_first_done = key, now, done
        snapshot = self._snapshot(stage, done, total, message, now)
        if stage_changed or now - self._last_meta_write >= META_INTERVAL_S:
            self._last_meta_write = now
            self._write_meta(snapshot)
        if stage_changed or now - self._last_db_write >= self.db_interval:
            self._last_db_write = now
            self._write_row(snapshot)

    def _snapshot(self, stage: str, done: int | None, total: int | None, message: str, now: float) -> dict[str, Any]:
        percent = round(100.0 * done / total, 1) if done is not None and total else None
        return {
            "stage": stage,
            "percent": percent,
            "message": message,
            "done": done,
            "total": total,
            "eta_s": self._eta_s(done, total, now),
            "at": time.time(),
        }

    def _eta_s(self, done: int | None, total: int | None, now: float) -> float | None:
        """Seconds left at this stage's rate so far; None until a few steps are done."""
        if done is None or not total or self._stage_first_done is None:
            return None
        steps = done - self._stage_first_done
        if steps < 3:
            return None
        rate = (now - self._stage_started) / steps
        return round(rate * max(total - done, 0), 1)

    def _write_meta(self, snapshot: dict[str, Any]) -> None:
        if self.job is None:
            return
        self.job.meta[META_KEY] = snapshot
        _save_meta(self.job)

    def _write_row(self, snapshot: dict[str, Any]) -> None:
        fields: dict[str, Any] = {"stage": snapshot["stage"][:120], "progress": snapshot, "updated_at": timezone.now()}
        if snapshot["percent"] is not None:
            fields["percent"] = snapshot["percent"]
        if snapshot["message"]:
            fields["message"] = snapshot["message"][:500]
        rows = JobRun.objects.filter(pk=self.run.pk)
        if self.lease is not None:
            rows = rows.filter(lease_token=self.run.lease_token)
        if not rows.update(**fields) and self.lease is not None:
            raise LeaseLost(f"run {self.run.pk} lost its lease")
        if JobRun.objects.filter(pk=self.run.pk, cancel_requested=True).exists():
            raise Cancelled()


def set_meta_stage(job: Job | None, stage: str, **extra: Any) -> None:
    """Put a one-off stage (queued for retry, waiting: rate limited, done) into job.meta."""
    if job is None:
        return
    job.meta[META_KEY] = {"stage": stage, "percent": extra.pop("percent", None), "message": extra.pop("message", ""),
                          "done": None, "total": None, "eta_s": None, "at": time.time(), **extra}
    _save_meta(job)


def _save_meta(job: Job) -> None:
    # job.meta is the live view; the row is the truth. A Redis blip (restart, failover) must not
    # fail the work: the next write or the row catches up.
    try:
        job.save_meta()
    except RedisError as exc:
        log.warning("could not write progress of job %s to Redis: %s", job.id, exc)
