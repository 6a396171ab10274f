"""One execution per run: the claim is a lease that the executing process holds and renews.

Claiming a run writes a fresh lease token and an expiry on its row. While the work runs, a thread of
the process doing it (the work-horse, not its parent worker) renews the expiry in the database every
heartbeat interval. Every later write of that execution (progress, success, a wait, a failure) is
conditional on the row still holding its token. The reconciler calls a running run lost only once its
lease has expired, so a Redis outage, which silences RQ's own heartbeats, never hands a live run to
a second worker.

A work-horse whose worker died (it is re-parented: an outage can make RQ's worker quit while its
horse works on) stops renewing at once and ends itself within half a lease, before anyone may take
the run over; a horse that finds its lease gone stops at its next progress point (LeaseLost).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from jobs.models import JobRun

log = logging.getLogger(__name__)

# Set by jobs.worker.Worker in a forked work-horse: only there may a lost lease end the process.
IN_WORK_HORSE = False


class LeaseLost(BaseException):
    """This execution no longer holds its run (expired, or taken over): stop without writing.

    A BaseException, like KeyboardInterrupt: domain code that catches Exception must not swallow it.
    """


def lease_ttl() -> timedelta:
    return timedelta(seconds=settings.JOBS_HEARTBEAT_INTERVAL_S + settings.JOBS_HEARTBEAT_GRACE_S)


def new_lease() -> tuple[str, datetime]:
    """A token and an expiry for a claim."""
    return uuid.uuid4().hex, timezone.now() + lease_ttl()


def is_live(run: JobRun, now: datetime | None = None) -> bool:
    """True while the run's executor holds an unexpired lease."""
    return bool(run.lease_token) and run.lease_expires_at is not None and run.lease_expires_at > (
        now or timezone.now())


class LeaseKeeper:
    """Renews the lease of `run` from a thread while the work runs (a context manager)."""

    def __init__(self, run: JobRun):
        self.run = run
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._parent = os.getppid()
        self._thread = threading.Thread(target=self._keep, name=f"lease-{run.pk}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        if self.run.lease_token:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def check(self) -> None:
        """Raises LeaseLost if this execution no longer holds the run."""
        if self.lost.is_set():
            raise LeaseLost(f"run {self.run.pk} lost its lease")

    def _keep(self) -> None:
        interval = settings.JOBS_HEARTBEAT_INTERVAL_S
        try:
            while not self._stop.wait(interval):
                if IN_WORK_HORSE and os.getppid() != self._parent:
                    self._give_up("its worker is gone")
                    return
                if not self._renew():
                    self._give_up("its lease was taken over or has expired")
                    return
        finally:
            connections.close_all()  # this thread's own connection

    def _renew(self) -> bool:
        try:
            return bool(JobRun.objects.filter(pk=self.run.pk, lease_token=self.run.lease_token,
                                              status=JobRun.Status.RUNNING)
                        .update(lease_expires_at=timezone.now() + lease_ttl()))
        except Exception as exc:  # the database blinked: the lease holds until it expires
            log.warning("run %s: could not renew its lease (%s)", self.run.pk, exc)
            return True

    def _give_up(self, why: str) -> None:
        log.warning("run %s: stopping this execution: %s", self.run.pk, why)
        self.lost.set()
        if IN_WORK_HORSE:
            # The work may sit in C code for a while without a progress point: the process ends
            # within half a lease, well before the lease can expire and the run be given away.
            if not self._stop.wait(lease_ttl().total_seconds() / 2):
                log.warning("run %s: the work did not stop in time; ending the work-horse", self.run.pk)
                logging.shutdown()
                os._exit(1)
