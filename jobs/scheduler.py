"""The rq-scheduler class `manage.py rqscheduler` runs (settings.RQ['SCHEDULER_CLASS']).

At start it registers the periodic jobs of jobs.policies.PERIODIC under stable ids
(`studyapp-periodic-<kind>`): registering again replaces an entry (its cron may have changed),
never adds a second one, and entries no longer in PERIODIC are removed. Every pass, under
rq-scheduler's lock, it also puts back entries that have gone missing (a Redis FLUSHALL takes the
schedule with it). rq-scheduler's lock makes one process at a time move due jobs, so two
schedulers (one per machine, for availability) never fire an entry twice.
"""

from __future__ import annotations

import logging

from django_rq.queues import DjangoScheduler

from jobs import maintenance
from jobs.policies import PERIODIC, PeriodicPolicy

log = logging.getLogger(__name__)

ID_PREFIX = "studyapp-periodic-"


def periodic_id(kind: str) -> str:
    return f"{ID_PREFIX}{kind}"


def register_periodic_jobs(scheduler) -> list[str]:
    """(Re-)register every periodic job; returns their ids."""
    wanted = {periodic_id(kind) for kind in PERIODIC}
    for job in list(scheduler.get_jobs()):
        if job.id.startswith(ID_PREFIX) and job.id not in wanted:
            scheduler.cancel(job)
            job.delete()
            log.info("removed the periodic job %s (no longer in jobs.policies.PERIODIC)", job.id)
    for entry in PERIODIC.values():
        _register(scheduler, entry)
    return sorted(wanted)


def ensure_periodic_jobs(scheduler) -> list[str]:
    """Register the periodic jobs that are missing from the schedule; returns their ids."""
    missing = [entry for entry in PERIODIC.values() if periodic_id(entry.kind) not in scheduler]
    for entry in missing:
        log.warning("the periodic job %s was missing from the schedule (Redis flushed?); registering it",
                    entry.kind)
        _register(scheduler, entry)
    return [periodic_id(entry.kind) for entry in missing]


def _register(scheduler, entry: PeriodicPolicy) -> None:
    policy = entry.policy
    scheduler.cron(
        entry.cron,
        func=getattr(maintenance, entry.kind),
        id=periodic_id(entry.kind),
        queue_name=policy.queue_name(),
        timeout=policy.timeout_s,
        result_ttl=policy.result_ttl_s,
        description=f"periodic {entry.kind} ({entry.cron})",
        meta={"kind": entry.kind, "periodic": True},
    )


class Scheduler(DjangoScheduler):
    def run(self, burst: bool = False):
        ids = register_periodic_jobs(self)
        log.info("registered periodic jobs: %s", ", ".join(ids))
        return super().run(burst=burst)

    def enqueue_jobs(self):
        ensure_periodic_jobs(self)
        return super().enqueue_jobs()
