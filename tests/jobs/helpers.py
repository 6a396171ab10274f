"""Running jobs in-process in tests, as netbox does: SimpleWorker in burst mode on real Redis."""

from __future__ import annotations

import time

from rq.job import Job

from jobs.connection import get_queue, get_redis
from jobs.policies import all_queue_names
from jobs.worker import SimpleWorker


class QuietSimpleWorker(SimpleWorker):
    """No command channel: an in-process test worker takes no stop commands, and RQ's teardown
    waits up to 1 s for the pubsub thread in short bursts (two of three drains paid it)."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


def drain() -> SimpleWorker:
    """Run every queued job (and the jobs they unblock) in this process, then return."""
    worker = QuietSimpleWorker([get_queue(name) for name in all_queue_names()], connection=get_redis())
    worker.work(burst=True)
    return worker


def release_scheduled() -> int:
    """Move every scheduled job (retries, rate-limit waits) back onto its queue now."""
    moved = 0
    for name in all_queue_names():
        queue = get_queue(name)
        registry = queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=get_redis())
            registry.remove(job)
            queue.enqueue_job(job)
            moved += 1
    return moved


def wait_for(predicate, timeout: float, what: str) -> None:
    """Poll `predicate` (every 0.1 s) until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.1)


def drain_with_retries(rounds: int = 10) -> None:
    """Drain, releasing scheduled retries between rounds, until nothing is left."""
    for _ in range(rounds):
        drain()
        if not release_scheduled():
            return
