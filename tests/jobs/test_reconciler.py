"""The reconciler in-process: runs Redis lost, DEFERRED runs that can never start, live runs
without a trace. Real Redis, real documents, a SimpleWorker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rq.job import Job, JobStatus

from jobs.connection import get_redis
from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.recovery import ALIVE_KEY, ENQUEUE_GRACE, recover_lost_runs
from jobs.submit import submit
from studyapp.core.errors import PermanentError
from studyapp.documents.models import Document, DocumentPage
from studyapp.graphs.models import ConceptGraph
from studyapp.quizzes.models import Quiz
from tests.conftest import pdf_path
from tests.jobs.helpers import drain, drain_with_retries
from tests.jobs.test_runner import noop_policy  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_PDFS = ["pdflatex-4-pages.pdf", "google-doc-document.pdf", "crazyones-pdfa.pdf"]


def upload(owner, name: str) -> Document:
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name)[0]


def settle(*runs: JobRun) -> None:
    """Age runs past the enqueue grace, as if the reconciler came by a while later."""
    JobRun.objects.filter(pk__in=[r.pk for r in runs] or JobRun.objects.values("pk")).update(
        updated_at=timezone.now() - ENQUEUE_GRACE * 2)


def rq_status(run: JobRun) -> str | None:
    try:
        return Job.fetch(str(run.id), connection=get_redis()).get_status()
    except Exception:
        return None


def test_documents_queued_before_a_flushall_all_complete_once(alice, settings):
    """FLUSHALL with three pipelines queued (extract -> graph -> quiz): all re-enqueued, each done once."""
    settings.PIPELINE_AUTO_GRAPH = True
    documents = [upload(alice, name) for name in SMALL_PDFS]
    assert JobRun.objects.count() == 9
    get_redis().flushall()
    settle()
    recovered = recover_lost_runs()
    assert len(recovered) == 9
    extracts = JobRun.objects.filter(kind="extract_document")
    graphs = JobRun.objects.filter(kind="generate_graph")
    quizzes = JobRun.objects.filter(kind="create_quiz")
    # Upstream first, then its graph run re-linked behind it as an RQ dependency.
    assert all(rq_status(r) == JobStatus.QUEUED for r in extracts)
    assert all(rq_status(r) == JobStatus.DEFERRED for r in graphs)
    assert all(rq_status(r) == JobStatus.DEFERRED for r in quizzes)
    drain_with_retries()
    for document in documents:
        document.refresh_from_db()
        assert document.status == "ready"
        indexes = list(DocumentPage.objects.filter(document=document).values_list("index", flat=True))
        assert sorted(indexes) == list(range(document.page_count))
        assert ConceptGraph.objects.filter(document=document).count() == 1
        assert Quiz.objects.filter(document=document).count() == 1
    assert set(JobRun.objects.values_list("status", "attempts")) == {("succeeded", 1)}


def test_a_run_is_not_re_enqueued_within_the_enqueue_grace(alice, noop_policy):
    """A run just written may not be enqueued yet (on commit): the reconciler leaves it alone."""
    noop_policy(lambda run, progress: "ok")
    run = submit("noop", alice, alice)
    get_redis().flushall()
    assert recover_lost_runs() == []
    settle(run)
    assert recover_lost_runs() == [str(run.id)]


def test_a_run_deferred_behind_a_failed_upstream_ends_with_its_reason(alice, noop_policy):
    """The upstream failed but RQ never released its dependent: the reconciler ends it failed."""
    noop_policy(lambda run, progress: "ok")
    upstream = submit("noop", alice, alice, {"n": 1})
    downstream = submit("noop", alice, alice, {"n": 2}, upstream=upstream)
    # The upstream's job is deleted (with the list of its dependents) and its run recorded failed,
    # as if an operator removed it in RQ's dashboard after it failed.
    Job.fetch(str(upstream.id), connection=get_redis()).delete()
    JobRun.objects.filter(pk=upstream.pk).update(status="failed", error="password required",
                                                 finished_at=timezone.now())
    assert rq_status(downstream) == JobStatus.DEFERRED
    settle(downstream)
    assert recover_lost_runs() == [str(downstream.id)]
    downstream.refresh_from_db()
    assert (downstream.status, downstream.error) == ("failed", "noop failed: password required")
    assert rq_status(downstream) is None


def test_a_run_deferred_behind_a_job_that_forgot_it_is_re_linked_and_runs(alice, noop_policy):
    """The upstream's job lost its dependents list: the dependent is enqueued behind it again."""
    order = []
    noop_policy(lambda run, progress: order.append(run.payload["n"]))
    upstream = submit("noop", alice, alice, {"n": 1})
    downstream = submit("noop", alice, alice, {"n": 2}, upstream=upstream)
    get_redis().delete(Job.fetch(str(upstream.id), connection=get_redis()).dependents_key)
    settle(downstream)
    assert recover_lost_runs() == [str(downstream.id)]
    drain()
    downstream.refresh_from_db()
    assert order == [1, 2] and downstream.status == "succeeded"


def test_a_run_deferred_behind_a_succeeded_upstream_is_enqueued(alice, noop_policy):
    """The upstream succeeded but its dependent was never released: it is enqueued and runs."""
    noop_policy(lambda run, progress: "ok")
    upstream = submit("noop", alice, alice, {"n": 1})
    downstream = submit("noop", alice, alice, {"n": 2}, upstream=upstream)
    Job.fetch(str(upstream.id), connection=get_redis()).delete()
    JobRun.objects.filter(pk=upstream.pk).update(status="succeeded", finished_at=timezone.now())
    settle(downstream)
    assert recover_lost_runs() == [str(downstream.id)]
    drain()
    downstream.refresh_from_db()
    assert (downstream.status, downstream.attempts) == ("succeeded", 1)


def running_without_a_trace(alice, *, attempts: int = 1, max_attempts: int = 3) -> JobRun:
    run = submit("noop", alice, alice)
    get_redis().flushall()
    JobRun.objects.filter(pk=run.pk).update(status="running", attempts=attempts, max_attempts=max_attempts,
                                            started_at=timezone.now())
    run.refresh_from_db()
    return run


def test_a_running_run_without_a_trace_is_lost_only_after_a_heartbeat_period(alice, noop_policy, settings,
                                                                              monkeypatch):
    """First sighting: maybe a live horse whose job was flushed. A heartbeat period later: lost."""
    noop_policy(lambda run, progress: "ok")
    run = running_without_a_trace(alice)
    assert recover_lost_runs() == []
    import jobs.recovery as recovery

    later = recovery.time.time() + recovery.heartbeat_ttl_s() + 1
    monkeypatch.setattr(recovery.time, "time", lambda: later)
    assert recover_lost_runs() == [str(run.id)]
    monkeypatch.undo()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 2), "the lost attempt counts"


def test_a_live_run_whose_job_was_flushed_is_left_to_finish(alice, noop_policy, monkeypatch):
    """Its worker's liveness key came back after the flush: the run is never started twice."""
    noop_policy(lambda run, progress: "ok")
    run = running_without_a_trace(alice)
    get_redis().set(ALIVE_KEY.format(run.id), "worker-1", ex=60)
    import jobs.recovery as recovery

    recover_lost_runs()
    later = recovery.time.time() + recovery.heartbeat_ttl_s() + 1
    monkeypatch.setattr(recovery.time, "time", lambda: later)
    get_redis().set(ALIVE_KEY.format(run.id), "worker-1", ex=60)
    assert recover_lost_runs() == []
    run.refresh_from_db()
    assert run.status == "running"


def test_a_lost_run_that_spent_its_attempts_fails_with_the_reason(alice, noop_policy, monkeypatch):
    """No attempts left: failed, saying the worker kept dying, instead of running forever."""
    failures = []
    noop_policy(lambda run, progress: "ok", on_failure=lambda run, message: failures.append(message))
    run = running_without_a_trace(alice, attempts=3, max_attempts=3)
    import jobs.recovery as recovery

    recover_lost_runs()
    later = recovery.time.time() + recovery.heartbeat_ttl_s() + 1
    monkeypatch.setattr(recovery.time, "time", lambda: later)
    recover_lost_runs()
    run.refresh_from_db()
    assert run.status == "failed" and "3 times" in run.error
    assert failures == [run.error]


def test_a_failed_run_s_downstream_recovered_after_a_flush_fails_with_the_reason(alice, noop_policy):
    """After a flush, a graph run whose extraction had failed ends failed, not stuck."""

    def fail_first(run, progress):
        if run.payload["n"] == 1:
            raise PermanentError("not a PDF")

    noop_policy(fail_first)
    upstream = submit("noop", alice, alice, {"n": 1})
    downstream = submit("noop", alice, alice, {"n": 2}, upstream=upstream)
    JobRun.objects.filter(pk=upstream.pk).update(status="failed", error="not a PDF", finished_at=timezone.now())
    get_redis().flushall()
    settle(downstream)
    assert recover_lost_runs() == [str(downstream.id)]
    drain()
    downstream.refresh_from_db()
    assert (downstream.status, downstream.error) == ("failed", "noop failed: not a PDF")


def abandoned_by_a_killed_worker(alice) -> JobRun:
    """A run whose worker and horse were killed, as RQ leaves it once the execution's hash has
    expired (after the heartbeat TTL) while the job's list of executions still names it (60 s
    longer), and RQ's registry cleanup has marked the job failed (AbandonedJobError)."""
    from rq.executions import Execution

    run = submit("noop", alice, alice)
    redis = get_redis()
    job = Job.fetch(str(run.id), connection=redis)
    with redis.pipeline() as pipe:
        execution = Execution.create(job, ttl=30, pipeline=pipe, worker_name="killed-worker")
        pipe.execute()
    with redis.pipeline() as pipe:
        job.started_job_registry.remove_execution(execution, pipeline=pipe)  # as RQ's cleanup does
        job.set_status(JobStatus.FAILED, pipeline=pipe)
        pipe.execute()
    redis.delete(execution.key)  # expired
    JobRun.objects.filter(pk=run.pk).update(status="running", attempts=1, worker_name="killed-worker",
                                            started_at=timezone.now())
    run.refresh_from_db()
    return run


def test_a_run_whose_dead_worker_s_execution_expired_is_re_enqueued(alice, noop_policy):
    """RQ's job.delete() raises ValueError for an execution it lists but no longer has: found by
    the chaos test, where it stopped every reconciler pass for about a minute after a kill -9."""
    noop_policy(lambda run, progress: "ok")
    run = abandoned_by_a_killed_worker(alice)
    assert recover_lost_runs() == [str(run.id)]
    assert rq_status(run) == JobStatus.QUEUED
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 2)


def test_two_reconciler_passes_that_read_the_same_run_enqueue_it_once(alice, noop_policy, monkeypatch):
    """Every worker reconciles: pass B, holding the same (now stale) row as pass A, must not put
    the run back while A does, or the queue holds it twice and it runs twice (the chaos test saw
    B find no job in the moment between A's discard and enqueue)."""
    import jobs.recovery as recovery
    from jobs.connection import get_queue

    noop_policy(lambda run, progress: "ok")
    run = submit("noop", alice, alice)
    pass_a, pass_b = JobRun.objects.get(pk=run.pk), JobRun.objects.get(pk=run.pk)
    enqueue = recovery.enqueue_run

    def b_runs_in_a_s_window(requeued):
        monkeypatch.setattr(recovery, "enqueue_run", enqueue)
        recovery._requeue(pass_b, "requeued by pass B")
        return enqueue(requeued)

    monkeypatch.setattr(recovery, "enqueue_run", b_runs_in_a_s_window)
    assert recovery._requeue(pass_a, "requeued by pass A")
    assert get_queue(run.queue).get_job_ids().count(str(run.id)) == 1
    run.refresh_from_db()
    assert run.stage == "requeued by pass A"


def waiting_in_rq_s_schedule(alice, n: int, *, due_in: timedelta) -> JobRun:
    """A run waiting for a retry (or a rate-limit slot, or its upstream), due at now + due_in."""
    from jobs.connection import get_queue

    run = submit("noop", alice, alice, {"n": n})
    due = timezone.now() + due_in
    job = Job.fetch(str(run.id), connection=get_redis())
    queue = get_queue(run.queue)
    queue.remove(job)
    with get_redis().pipeline() as pipe:
        job.set_status(JobStatus.SCHEDULED, pipeline=pipe)
        queue.schedule_job(job, due, pipeline=pipe)
        pipe.execute()
    JobRun.objects.filter(pk=run.pk).update(status="waiting", attempts=1, next_attempt_at=due,
                                            updated_at=timezone.now() - ENQUEUE_GRACE * 2)
    run.refresh_from_db()
    return run


def test_a_wait_no_scheduler_ended_is_enqueued_by_the_reconciler(alice, noop_policy):
    """RQ's scheduler moves due jobs back; when the worker holding its lock is killed, nobody does
    for up to a minute (the lock's TTL). A run overdue by more than the enqueue grace is put back
    (the chaos test saw a quiz waiting for its graph stall so); one not yet due is left alone."""
    noop_policy(lambda run, progress: "ok")
    later = waiting_in_rq_s_schedule(alice, 1, due_in=timedelta(seconds=60))
    overdue = waiting_in_rq_s_schedule(alice, 2, due_in=-ENQUEUE_GRACE * 2)
    assert recover_lost_runs() == [str(overdue.id)]
    assert (rq_status(overdue), rq_status(later)) == (JobStatus.QUEUED, JobStatus.SCHEDULED)
    drain()
    overdue.refresh_from_db()
    assert (overdue.status, overdue.attempts) == ("succeeded", 2)



def test_a_running_run_whose_job_ended_is_lost_only_once_its_worker_is_silent(alice, noop_policy):
    """The same job id delivered twice: the second delivery finds the run claimed, does nothing,
    and RQ marks the job finished while the first horse still works. Not lost while that horse
    beats (re-enqueueing it would run it twice at once); lost when it stops."""
    noop_policy(lambda run, progress: "ok")
    run = submit("noop", alice, alice)
    job = Job.fetch(str(run.id), connection=get_redis())
    job.set_status(JobStatus.FINISHED)
    JobRun.objects.filter(pk=run.pk).update(status="running", attempts=1, started_at=timezone.now())
    get_redis().set(ALIVE_KEY.format(run.id), "worker-1", ex=60)
    assert recover_lost_runs() == []
    get_redis().delete(ALIVE_KEY.format(run.id))
    assert recover_lost_runs() == [str(run.id)]


def test_two_reconcilers_at_once_put_each_lost_run_back_once(alice, settings):
    """Every worker reconciles: after a FLUSHALL, two passes at the same moment enqueue nothing twice."""
    import threading

    from django.db import connections

    from jobs.connection import get_queue

    settings.PIPELINE_AUTO_GRAPH = True
    for name in SMALL_PDFS:
        upload(alice, name)
    get_redis().flushall()
    settle()
    results: list[list[str]] = []
    start = threading.Barrier(2)

    def reconcile():
        start.wait()
        try:
            results.append(recover_lost_runs())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reconcile) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    handled = [run_id for result in results for run_id in result]
    assert sorted(handled) == sorted(str(pk) for pk in JobRun.objects.values_list("pk", flat=True))
    queued = [job_id for name in settings.JOB_QUEUE_NAMES for job_id in get_queue(name).job_ids]
    assert len(queued) == len(set(queued)) == len(SMALL_PDFS)  # the extractions; the rest wait behind them
    drain_with_retries()
    assert set(JobRun.objects.values_list("status", "attempts")) == {("succeeded", 1)}
