"""Operator actions through jobs.control on a real Redis: dead letters, cancel, pause, drain."""

from __future__ import annotations

import pytest
from rq.job import Job, JobStatus

from jobs import control
from jobs.connection import get_queue, get_redis
from jobs.models import JobRun
from jobs.submit import submit
from studyapp.core.errors import PermanentError
from tests.jobs.helpers import drain
from tests.jobs.test_runner import noop_policy  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)


def failing(run, progress):
    if run.payload["n"] < 100:
        raise PermanentError(f"broken input {run.payload['n']}")
    return "ok"


def failed_runs(owner, n: int) -> list[JobRun]:
    runs = [submit("noop", owner, owner, {"n": i}) for i in range(n)]
    drain()
    return [JobRun.objects.get(pk=r.pk) for r in runs]


def test_the_dead_letters_are_the_failed_runs_with_their_error_and_attempts(alice, noop_policy):
    """Failed runs appear newest first with what went wrong; succeeded ones do not."""
    noop_policy(failing)
    runs = failed_runs(alice, 2)
    ok = submit("noop", alice, alice, {"n": 100})
    drain()
    letters = list(control.dead_letters())
    assert {r.pk for r in letters} == {r.pk for r in runs}
    assert all(r.error.startswith("broken input") and r.attempts == 1 for r in letters)
    assert ok.pk not in {r.pk for r in letters}


def test_requeueing_many_dead_letters_runs_them_again(alice, noop_policy):
    """requeue_runs puts every selected failed run back; once fixed they succeed and leave the view."""
    noop_policy(failing)
    runs = failed_runs(alice, 3)
    noop_policy(lambda run, progress: "fixed")
    assert control.requeue_runs(runs) == 3
    drain()
    assert set(JobRun.objects.values_list("status", flat=True)) == {"succeeded"}
    assert not control.dead_letters().exists()
    assert control.requeue_runs(runs) == 0, "succeeded runs are not requeued"


def test_a_discarded_run_stays_for_the_record_but_leaves_the_dead_letters(alice, noop_policy):
    """Discarding keeps status, error and attempts; the run and its RQ job leave the failed views."""
    noop_policy(failing)
    first, second = failed_runs(alice, 2)
    failed_registry = get_queue(first.queue).failed_job_registry
    assert str(first.id) in failed_registry.get_job_ids()
    assert control.discard_runs([first]) == 1
    first.refresh_from_db()
    assert (first.status, first.attempts, first.error) == ("failed", 1, "broken input 0")
    assert first.discarded_at is not None
    assert list(control.dead_letters()) == [second]
    assert str(first.id) not in failed_registry.get_job_ids()
    assert control.discard_runs([first]) == 0
    assert control.requeue_runs([first]) == 1, "a discarded run can still be requeued"
    first.refresh_from_db()
    assert first.discarded_at is None


def test_cancelling_a_queued_run_cancels_the_runs_waiting_for_it(alice, noop_policy):
    """The whole chain behind a cancelled run ends cancelled; nothing of it ever runs."""
    calls = []
    noop_policy(lambda run, progress: calls.append(run.pk))
    first = submit("noop", alice, alice, {"n": 1})
    second = submit("noop", alice, alice, {"n": 2}, upstream=first)
    third = submit("noop", alice, alice, {"n": 3}, upstream=second)
    assert control.cancel_run(first) is True
    drain()
    assert [JobRun.objects.get(pk=r.pk).status for r in (first, second, third)] == ["cancelled"] * 3
    assert calls == []


def test_pausing_stops_workers_taking_jobs_until_resumed(alice, noop_policy):
    """rq suspend: a worker takes nothing while paused; after resume the queued run runs."""
    noop_policy(lambda run, progress: "ok")
    control.pause_processing()
    assert control.processing_paused()
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert run.status == "queued"
    control.resume_processing()
    assert not control.processing_paused()
    drain()
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_draining_a_queue_cancels_its_runs_and_their_dependents_with_the_reason(alice, noop_policy):
    """Nothing is lost silently: every drained run (and the run behind it) says why it ended."""
    noop_policy(lambda run, progress: "ok")
    queued = [submit("noop", alice, alice, {"n": i}) for i in range(3)]
    behind = submit("noop", alice, alice, {"n": 10}, upstream=queued[0])
    other_queue = submit("noop", alice, alice, {"n": 20}, tier="high")
    result = control.drain_queue("cpu_low")
    assert (result.removed, result.cancelled) == (3, 4)
    assert get_queue("cpu_low").count == 0
    for run in [*queued, behind]:
        run.refresh_from_db()
        assert run.status == "cancelled"
        assert run.error == "cancelled: the cpu_low queue was drained by an operator"
    drain()
    other_queue.refresh_from_db()
    assert other_queue.status == "succeeded", "other queues are not touched"
    assert control.retry_run(queued[1]) is True, "a drained run can be retried"
    drain()
    queued[1].refresh_from_db()
    assert queued[1].status == "succeeded"


def test_draining_removes_jobs_that_have_no_run(alice):
    """A job that is not a run (e.g. a periodic one) is simply removed."""
    job = get_queue("cpu_low").enqueue(print, "tick")
    result = control.drain_queue("cpu_low")
    assert (result.removed, result.cancelled) == (1, 0)
    assert not Job.exists(job.id, connection=get_redis())


def test_a_stopped_job_is_recorded_cancelled_with_its_dependents(alice, noop_policy):
    """RQ's stop command kills the horse before the runner can record anything: the worker does."""
    noop_policy(lambda run, progress: "ok")
    run = submit("noop", alice, alice, {"n": 1})
    behind = submit("noop", alice, alice, {"n": 2}, upstream=run)
    JobRun.objects.filter(pk=run.pk).update(status="running", attempts=1)
    assert control.record_stopped(str(run.id)) is True
    run.refresh_from_db()
    behind.refresh_from_db()
    assert (run.status, run.error) == ("cancelled", "stopped by an operator")
    assert behind.status == "cancelled"
    assert control.record_stopped(str(run.id)) is False


def test_the_queue_overview_counts_jobs_per_registry(alice, noop_policy):
    """Waiting and deferred jobs per queue, as the admin shows them."""
    noop_policy(lambda run, progress: "ok")
    first = submit("noop", alice, alice, {"n": 1})
    submit("noop", alice, alice, {"n": 2}, upstream=first)
    row = control.queue_overview(["cpu_low"])[0]
    assert (row["name"], row["queued"], row["deferred"], row["workers"]) == ("cpu_low", 1, 1, 0)
    assert Job.fetch(str(first.id), connection=get_redis()).get_status() == JobStatus.QUEUED
