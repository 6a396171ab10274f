"""The job layer end to end on a real Redis, with an in-process SimpleWorker."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from rq.job import Job, JobStatus

from jobs import policies, tasks
from jobs.connection import get_queue, get_redis
from jobs.control import cancel_run, retry_run
from jobs.models import JobRun
from jobs.submit import InvalidPayload, submit
from studyapp.core.errors import PermanentError, RateLimited, TransientError
from tests.jobs.helpers import drain, release_scheduled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def noop_policy(monkeypatch):
    """Give the noop kind a retry budget and a behaviour chosen by each test."""

    def configure(behaviour, *, max_attempts=3, on_failure=None):
        policy = replace(policies.POLICIES["noop"], max_attempts=max_attempts, backoff_base_s=10, backoff_cap_s=40,
                         jitter=0.5)
        monkeypatch.setitem(policies.POLICIES, "noop", policy)
        monkeypatch.setitem(tasks.TASKS, "noop", tasks.Task(
            run=behaviour, on_failure=on_failure or tasks.nothing_to_undo, on_retry=tasks.nothing_to_undo))
        return policy

    return configure


def rq_job(run: JobRun) -> Job:
    return Job.fetch(str(run.id), connection=get_redis())


def scheduled_in(run: JobRun) -> float:
    score = get_queue(run.queue).scheduled_job_registry.get_scheduled_time(str(run.id)).timestamp()
    return score - time.time()


def test_it_enqueues_on_commit_with_the_run_id_as_job_id(alice):
    """The RQ job exists only after commit, with id = run id and the kind in its meta."""
    run = submit("noop", alice, alice, {"n": 1})
    job = rq_job(run)
    assert job.id == str(run.id)
    assert job.meta["kind"] == "noop"
    assert job.origin == "cpu_low"
    run.refresh_from_db()
    assert run.enqueued_at is not None and run.status == JobRun.Status.QUEUED


def test_it_returns_the_unfinished_run_for_the_same_work(alice):
    """Same kind, subject and payload while unfinished: one run."""
    first = submit("noop", alice, alice, {"n": 1})
    again = submit("noop", alice, alice, {"n": 1})
    other = submit("noop", alice, alice, {"n": 2})
    assert again.pk == first.pk
    assert other.pk != first.pk
    assert JobRun.objects.count() == 2


def test_it_rejects_a_payload_that_does_not_match_the_schema(alice):
    """Unknown fields and wrong types are a clear error, and nothing is written."""
    with pytest.raises(InvalidPayload, match="bogus"):
        submit("noop", alice, alice, {"bogus": 1})
    with pytest.raises(InvalidPayload, match="n"):
        submit("noop", alice, alice, {"n": "many"})
    with pytest.raises(ValueError, match="unknown job kind"):
        submit("nope", alice, alice, {})
    assert JobRun.objects.count() == 0


def test_it_runs_a_job_to_success(alice, noop_policy):
    """A successful run records one attempt, 100 percent and its timings."""
    noop_policy(lambda run, progress: progress("working", done=1, total=1) or {"ok": True})
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.percent, run.stage) == ("succeeded", 1, 100.0, "done")
    assert run.started_at and run.finished_at and run.finished_at >= run.started_at
    job = rq_job(run)
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == {"ok": True}


def test_the_task_gets_the_claimed_run_with_every_field_typed(alice, noop_policy):
    """The one-statement claim hands the task a complete run (JSON decoded, times aware), and a
    retry keeps the first start time while counting the attempt."""
    seen = []

    def flaky(run, progress):
        seen.append((run.status, run.attempts, run.payload, run.started_at, run.owner_id, run.id))
        if len(seen) == 1:
            raise TransientError("blip")

    noop_policy(flaky)
    run = submit("noop", alice, alice, {"n": 7})
    drain()
    release_scheduled()
    drain()
    (status1, attempts1, payload1, started1, owner1, id1), (status2, attempts2, payload2, started2, _, _) = seen
    assert (status1, attempts1, payload1, owner1, id1) == ("running", 1, {"n": 7}, alice.pk, run.id)
    assert started1.tzinfo is not None and started2 == started1
    assert (status2, attempts2, payload2) == ("running", 2, {"n": 7})
    run.refresh_from_db()
    assert (run.status, run.attempts, run.started_at) == ("succeeded", 2, started1)


def test_it_fails_a_permanent_error_at_once(alice, noop_policy):
    """A PermanentError is not retried: failed after one attempt, in RQ's failed registry too."""
    failures = []

    def broken(run, progress):
        raise PermanentError("This file is not a PDF.")

    noop_policy(broken, on_failure=lambda run, message: failures.append(message))
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == ("failed", 1, "This file is not a PDF.")
    assert failures == ["This file is not a PDF."]
    assert rq_job(run).get_status() == JobStatus.FAILED
    assert str(run.id) in get_queue(run.queue).failed_job_registry.get_job_ids()


def test_it_retries_a_transient_error_with_backoff_within_the_policy_bounds(alice, noop_policy):
    """Attempt n waits base*2^(n-1) capped, of which the jitter share is random; then the budget ends."""
    noop_policy(lambda run, progress: (_ for _ in ()).throw(TransientError("provider timed out")), max_attempts=3)
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.stage) == ("waiting", 1, run.stage)
    assert run.stage.startswith("retrying in ")
    assert 5 - 2 <= scheduled_in(run) <= 10 + 1  # base 10, jitter 0.5: [5, 10]
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert run.attempts == 2
    assert 10 - 2 <= scheduled_in(run) <= 20 + 1
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == ("failed", 3, "provider timed out")


def test_it_honours_a_retry_after_reported_by_the_job(alice, noop_policy):
    """A transient error's retry_after is a lower bound on the wait."""
    noop_policy(lambda run, progress: (_ for _ in ()).throw(TransientError("busy", retry_after=100)))
    run = submit("noop", alice, alice)
    drain()
    assert 98 <= scheduled_in(run) <= 101


def test_it_waits_for_a_rate_limit_without_spending_an_attempt(alice, noop_policy):
    """RateLimited parks the run as waiting and gives the attempt back."""
    calls = []

    def limited_once(run, progress):
        calls.append(1)
        if len(calls) == 1:
            raise RateLimited(retry_after=7)
        return "done"

    noop_policy(limited_once, max_attempts=1)
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert (run.status, run.stage, run.attempts) == ("waiting", "waiting: rate limited", 0)
    assert 5 <= scheduled_in(run) <= 8
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)


def test_it_treats_an_unknown_error_as_transient_until_the_budget_is_spent(alice, noop_policy):
    """A bug retries like a blip, then fails: the run names the exception, the student is not shown it."""
    told = []
    noop_policy(lambda run, progress: {}["missing"], max_attempts=2, on_failure=lambda run, m: told.append(m))
    run = submit("noop", alice, alice)
    drain()
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert run.status == "failed" and run.attempts == 2
    assert run.error.startswith("unexpected error: KeyError")
    assert told == ["Processing failed after 2 attempt(s) because of an internal error; it has been logged."]


def test_it_runs_a_job_delivered_twice_only_once(alice, noop_policy):
    """The runner claims a run with a conditional update: a duplicate delivery does nothing."""
    calls = []
    noop_policy(lambda run, progress: calls.append(run.pk))
    run = submit("noop", alice, alice)
    from jobs.runner import run_job

    get_queue(run.queue).enqueue(run_job, str(run.id), job_id=f"dup-{run.id}")
    drain()
    assert len(calls) == 1
    run.refresh_from_db()
    assert run.attempts == 1


def test_it_cancels_a_queued_run_so_it_never_runs(alice, noop_policy):
    """Cancelling a queued run ends it at once; a worker then skips it."""
    calls = []
    noop_policy(lambda run, progress: calls.append(1))
    run = submit("noop", alice, alice)
    assert cancel_run(run) is True
    drain()
    run.refresh_from_db()
    assert run.status == "cancelled" and calls == []
    assert cancel_run(run) is False


def test_it_cancels_a_running_run_at_its_next_progress_point(alice, noop_policy, settings):
    """A running run sees its cancel flag at the next progress write and ends cancelled."""
    settings.JOBS_DB_PROGRESS_INTERVAL_S = 0
    steps = []

    def long_task(run, progress):
        for i in range(5):
            progress(f"step {i + 1}/5", done=i + 1, total=5)
            steps.append(i)
            if i == 1:
                cancel_run(JobRun.objects.get(pk=run.pk))

    noop_policy(long_task)
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert steps == [0, 1]


def test_it_retries_a_failed_run_from_the_dead_letters(alice, noop_policy):
    """retry_run puts a failed run back with a fresh budget and it can then succeed."""
    outcomes = iter([PermanentError("nope"), None])

    def flaky(run, progress):
        outcome = next(outcomes)
        if outcome:
            raise outcome
        return "ok"

    noop_policy(flaky)
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert run.status == "failed"
    assert retry_run(run) is True
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == ("succeeded", 1, "")
    assert retry_run(run) is False


def test_a_downstream_run_fails_with_the_upstream_reason_instead_of_staying_deferred(alice, noop_policy):
    """If the upstream run fails, the run that depends on it ends failed with that reason."""

    def fail_first(run, progress):
        if run.payload["n"] == 1:
            raise PermanentError("password required")

    noop_policy(fail_first)
    upstream = submit("noop", alice, alice, {"n": 1})
    downstream = submit("noop", alice, alice, {"n": 2}, upstream=upstream)
    assert rq_job(downstream).get_status() == JobStatus.DEFERRED
    drain()
    downstream.refresh_from_db()
    assert downstream.status == "failed"
    assert downstream.error == "noop failed: password required"
    assert rq_job(downstream).get_status() == JobStatus.CANCELED  # taken off RQ: it has nothing to do


def test_runs_behind_a_failed_extraction_end_when_it_ends_not_when_their_queue_reaches_them(alice):
    """Only the CPU queues are worked: the graph and quiz runs (AI queue) end all the same."""
    from jobs.connection import get_queue, get_redis
    from jobs.pipelines import document_upload
    from tests.conftest import pdf_path
    from tests.jobs.helpers import QuietSimpleWorker

    with pdf_path("libreoffice-writer-password.pdf").open("rb") as fh:
        document_upload(owner=alice, upload=fh, filename="locked.pdf")
    cpu = [get_queue(name) for name in ("cpu_high", "cpu_default", "cpu_low")]
    QuietSimpleWorker(cpu, connection=get_redis()).work(burst=True)

    runs = {run.kind: run for run in JobRun.objects.all()}
    assert runs["extract_document"].status == "failed"
    assert runs["generate_graph"].status == runs["create_quiz"].status == "failed"
    assert runs["generate_graph"].error == "extraction failed: This PDF is password-protected: password required."
    assert runs["create_quiz"].error.startswith("graph generation failed: extraction failed:")
    assert all(get_queue(name).count == 0 for name in ("ai_high", "ai_default", "ai_low"))


def test_a_downstream_run_starts_after_its_upstream_succeeds(alice, noop_policy):
    """The RQ dependency orders the two runs."""
    order = []
    noop_policy(lambda run, progress: order.append(run.payload["n"]))
    upstream = submit("noop", alice, alice, {"n": 1})
    downstream = submit("noop", alice, alice, {"n": 2}, upstream=upstream)
    drain()
    downstream.refresh_from_db()
    assert order == [1, 2] and downstream.status == "succeeded"


def test_a_submit_survives_redis_being_down_and_is_enqueued_later(alice, noop_policy, redis_server):
    """Redis away at commit time: the run stays queued in the database; recovery enqueues it."""
    from jobs.recovery import recover_lost_runs

    noop_policy(lambda run, progress: "ok")
    redis_server.stop()
    try:
        run = submit("noop", alice, alice)
    finally:
        redis_server.start()
    run.refresh_from_db()
    assert run.status == "queued" and run.enqueued_at is None
    JobRun.objects.filter(pk=run.pk).update(updated_at=run.updated_at - policies_grace())
    assert recover_lost_runs() == [str(run.id)]
    drain()
    run.refresh_from_db()
    assert run.status == "succeeded"


def policies_grace():
    from jobs.recovery import ENQUEUE_GRACE

    return ENQUEUE_GRACE * 2
