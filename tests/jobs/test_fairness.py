"""Per-student fairness for AI work (jobs/fairness.py), in-process on a real Redis.

The noop kind is given the AI group here, so these runs are fair-shared AI runs that do nothing
but record that they ran. Runs that "are running" elsewhere are JobRun rows set to running.
"""

from __future__ import annotations

import time
from dataclasses import replace
from types import SimpleNamespace

import pytest

from jobs import fairness, policies, tasks
from jobs.connection import get_queue, get_redis
from jobs.models import JobRun
from jobs.submit import submit
from studyapp.core.errors import TransientError
from tests.jobs.helpers import drain, release_scheduled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ai_noop(monkeypatch, settings):
    """noop as an AI-group kind with 3 attempts. `.executed`: the ids of the runs it ran;
    `.behaviour`: what a run does (replaceable by a test)."""
    settings.AI_MAX_RUNNING_PER_USER = 2
    settings.AI_JOBS_PER_HOUR_PER_USER = 0
    fake = SimpleNamespace(executed=[])
    fake.behaviour = lambda run, progress: fake.executed.append(run.id)
    monkeypatch.setitem(policies.POLICIES, "noop", replace(policies.POLICIES["noop"], group="ai", max_attempts=3))
    monkeypatch.setitem(tasks.TASKS, "noop", tasks.Task(run=lambda run, progress: fake.behaviour(run, progress),
                                                        on_failure=tasks.nothing_to_undo, on_retry=tasks.nothing_to_undo))
    return fake


def running(owner, kind: str = "generate_graph", n: int = 1) -> list[JobRun]:
    """Rows of runs that are running on some other worker (nothing in Redis)."""
    return [JobRun.objects.create(kind=kind, subject=owner, owner=owner, status=JobRun.Status.RUNNING,
                                  idempotency_key=f"elsewhere:{owner.pk}:{kind}:{i}", queue="ai_default")
            for i in range(n)]


def scheduled_in(run: JobRun) -> float:
    return get_queue(run.queue).scheduled_job_registry.get_scheduled_time(str(run.id)).timestamp() - time.time()


def test_over_the_cap_a_run_waits_without_spending_an_attempt(alice, ai_noop):
    """Two of alice's AI runs running, cap 2: her third waits a few seconds, untouched and unrun."""
    running(alice, n=2)
    run = submit("noop", alice, alice, {"n": 1})
    assert run.queue == "ai_low"
    drain()
    run.refresh_from_db()
    assert (run.status, run.stage, run.attempts, run.started_at) == ("waiting", fairness.RUNNING_STAGE, 0, None)
    assert ai_noop.executed == []
    assert policies.FAIR_SHARE_RECHECK_S - 1 <= scheduled_in(run) <= 2 * policies.FAIR_SHARE_RECHECK_S + 1


def test_the_more_of_the_owners_runs_wait_the_later_each_looks_again(alice, ai_noop):
    """Cap 2 reached with 10 of alice's runs already waiting for it: 5 s x 10/2 = 25 s, with
    jitter up to 50 s; with 40 waiting it is capped at 60 s (up to 120 s)."""
    running(alice, n=2)
    waiting = [JobRun.objects.create(kind="create_quiz", subject=alice, owner=alice, status=JobRun.Status.WAITING,
                                     stage=fairness.RUNNING_STAGE, idempotency_key=f"waits:{i}", queue="ai_default")
               for i in range(40)]
    JobRun.objects.filter(pk__in=[w.pk for w in waiting[10:]]).update(stage="waiting: rate limited")
    run = submit("noop", alice, alice, {"n": 1})
    drain()
    assert 25 - 1 <= scheduled_in(JobRun.objects.get(pk=run.pk)) <= 50 + 1
    JobRun.objects.filter(pk__in=[w.pk for w in waiting]).update(stage=fairness.RUNNING_STAGE)
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("waiting", 0)
    assert policies.FAIR_SHARE_RECHECK_MAX_S - 1 <= scheduled_in(run) <= 2 * policies.FAIR_SHARE_RECHECK_MAX_S + 1


def test_under_the_cap_a_run_runs(alice, ai_noop):
    """One running, cap 2: the next one starts at once, with one attempt."""
    running(alice, n=1)
    run = submit("noop", alice, alice, {"n": 1})
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert ai_noop.executed == [run.id]


def test_a_waiting_run_starts_once_a_slot_frees(alice, ai_noop):
    """Over the cap it waits; after one of the running runs ends, the next look admits it."""
    first, _ = running(alice, n=2)
    run = submit("noop", alice, alice, {"n": 1})
    drain()
    release_scheduled()
    drain()
    assert JobRun.objects.get(pk=run.pk).status == "waiting", "still two running: waits again"
    JobRun.objects.filter(pk=first.pk).update(status=JobRun.Status.SUCCEEDED)
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)


def test_only_the_owners_running_ai_runs_count_and_cpu_work_is_never_held(alice, bob, ai_noop):
    """Bob's running AI runs and alice's running extractions do not count against alice; a CPU
    run of alice starts even while her AI runs are at the cap."""
    running(bob, n=2)
    running(alice, kind="extract_document", n=3)
    run = submit("noop", alice, alice, {"n": 1})
    drain()
    assert JobRun.objects.get(pk=run.pk).status == "succeeded"

    running(alice, n=2)
    cpu_run = submit("extract_document", alice, alice, tier="high")  # the subject is no document:
    assert cpu_run.queue == "cpu_high"
    drain()
    cpu_run.refresh_from_db()
    assert cpu_run.attempts == 1 and cpu_run.stage != fairness.RUNNING_STAGE, "claimed and run (it fails: no document)"


def test_the_hourly_limit_holds_the_extra_runs_until_the_window_frees(alice, bob, ai_noop, settings):
    """Two per hour: alice's third run waits for about an hour, attempts unchanged; bob is not
    affected."""
    settings.AI_MAX_RUNNING_PER_USER = 0
    settings.AI_JOBS_PER_HOUR_PER_USER = 2
    runs = [submit("noop", alice, alice, {"n": n}) for n in range(3)]
    bobs = submit("noop", bob, bob, {"n": 0})
    drain()
    statuses = sorted((JobRun.objects.get(pk=r.pk).status, JobRun.objects.get(pk=r.pk).attempts) for r in runs)
    assert statuses == [("succeeded", 1), ("succeeded", 1), ("waiting", 0)]
    held = JobRun.objects.get(pk__in=[r.pk for r in runs], status="waiting")
    assert held.stage == fairness.HOURLY_STAGE
    assert 3500 <= scheduled_in(held) <= 3601
    assert JobRun.objects.get(pk=bobs.pk).status == "succeeded"


def test_a_retry_is_not_charged_again_against_the_hourly_limit(alice, ai_noop, settings):
    """One per hour: a run whose first attempt failed transiently still gets its second attempt."""
    settings.AI_JOBS_PER_HOUR_PER_USER = 1
    attempts = []

    def flaky(run, progress):
        attempts.append(run.attempts)
        if len(attempts) == 1:
            raise TransientError("blip")

    ai_noop.behaviour = flaky
    run = submit("noop", alice, alice, {"n": 1})
    drain()
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts, attempts) == ("succeeded", 2, [1, 2])


def test_the_claim_waits_for_the_owners_admission_lock(alice, ai_noop, monkeypatch):
    """While another worker holds alice's admission (counting and claiming), her run does not
    start on its own count: it waits, attempts unchanged. The lock is per owner."""
    monkeypatch.setattr(fairness, "LOCK_WAIT_S", 0.2)
    lock = get_redis().lock(fairness.LOCK_KEY.format(alice.pk), timeout=30)
    assert lock.acquire()
    try:
        run = submit("noop", alice, alice, {"n": 1})
        drain()
        run.refresh_from_db()
        assert (run.status, run.stage, run.attempts) == ("waiting", fairness.BUSY_STAGE, 0)
    finally:
        lock.release()
    release_scheduled()
    drain()
    assert JobRun.objects.get(pk=run.pk).status == "succeeded"


def test_a_run_delivered_twice_while_running_is_left_alone(alice, ai_noop):
    """A duplicate delivery of a running run, with the owner at the cap, neither runs it again nor
    sets it waiting: the running row stays as it is."""
    elsewhere = running(alice, n=2)
    run = submit("noop", alice, alice, {"n": 1})
    JobRun.objects.filter(pk=run.pk).update(status=JobRun.Status.RUNNING, stage="working")
    drain()
    run.refresh_from_db()
    assert (run.status, run.stage) == ("running", "working")
    assert ai_noop.executed == [] and len(elsewhere) == 2


def test_a_run_that_ends_wakes_its_owners_waiting_run_at_once(alice, bob, ai_noop, settings):
    """Cap 1: alice's second run waits for her first. When bob's run ends nothing moves; when
    hers ends, her waiting run is back on its queue at once (not at its next look) and runs."""
    from jobs.runner import end_run

    settings.AI_MAX_RUNNING_PER_USER = 1
    (hers,), (his,) = running(alice), running(bob)
    run = submit("noop", alice, alice, {"n": 1})
    drain()
    scheduled = get_queue(run.queue).scheduled_job_registry
    assert JobRun.objects.get(pk=run.pk).stage == fairness.RUNNING_STAGE and str(run.id) in scheduled.get_job_ids()

    end_run(his, JobRun.Status.FAILED, "bob's run ended")
    assert str(run.id) in scheduled.get_job_ids(), "another student's slot is not hers"

    end_run(hers, JobRun.Status.FAILED, "her first run ended")
    assert str(run.id) not in scheduled.get_job_ids()
    assert str(run.id) in get_queue(run.queue).get_job_ids(), "woken: on its queue now"
    drain()  # no release_scheduled(): the wake-up alone lets it run
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
