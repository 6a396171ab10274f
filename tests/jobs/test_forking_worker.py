"""Real forking `manage.py rqworker` processes: kill -9, warm shutdown, progress across processes."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.conf import settings
from rq.job import Job

from jobs.connection import get_redis
from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.documents.models import Document, DocumentPage
from tests.conftest import child_pids, kill_worker_and_horse, pdf_path

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAST_RECOVERY = {"JOBS_HEARTBEAT_INTERVAL_S": "1", "JOBS_HEARTBEAT_GRACE_S": "3", "JOBS_RECOVERY_INTERVAL_S": "2"}


def upload(owner, name: str) -> tuple[Document, JobRun]:
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def meta_progress(run: JobRun) -> dict:
    """Read the job's progress the way any other process would: straight from Redis."""
    return Job.fetch(str(run.id), connection=get_redis()).get_meta(refresh=True).get("progress") or {}


def test_progress_is_readable_from_another_process_while_the_job_runs(alice, start_worker):
    """The test process sees job.meta advance page by page while a forked horse extracts."""
    document, run = upload(alice, "GeoTopo-komprimiert.pdf")
    start_worker("cpu_high", "cpu_default", "cpu_low", burst=True)
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        progress = meta_progress(run)
        if progress.get("done") is not None and progress.get("total") == 117:
            seen.add(progress["done"])
        run.refresh_from_db()
        if run.is_finished:
            break
        time.sleep(0.02)
    assert run.status == "succeeded"
    assert len(seen) >= 5, f"expected to watch progress advance, saw {sorted(seen)}"
    assert any(0 < done < 117 for done in seen)


def test_a_killed_worker_and_horse_are_recovered_without_duplicating_pages(alice, start_worker):
    """kill -9 of worker and work-horse mid-extraction; a new worker resumes; one row per page."""
    document, run = upload(alice, "GeoTopo-komprimiert.pdf")
    worker = start_worker("cpu_high", "cpu_default", "cpu_low", extra_env=FAST_RECOVERY)
    wait_for(lambda: DocumentPage.objects.filter(document=document).count() >= 10, 60, "10 pages stored")
    horses = child_pids(worker.pid)
    assert horses, "the worker must have forked a work-horse"
    kill_worker_and_horse(worker.pid)
    worker.wait(10)
    stored_at_kill = DocumentPage.objects.filter(document=document).count()
    run.refresh_from_db()
    assert run.status == "running" and stored_at_kill < 117, "the kill must land mid-extraction"

    start_worker("cpu_high", "cpu_default", "cpu_low", extra_env=FAST_RECOVERY)
    wait_for(lambda: JobRun.objects.get(pk=run.pk).is_finished, 120, "the run to finish after recovery")

    run.refresh_from_db()
    document.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 2)
    assert document.status == "ready" and document.page_count == 117
    indexes = list(DocumentPage.objects.filter(document=document).values_list("index", flat=True))
    assert sorted(indexes) == list(range(117)), "exactly one row per page"


def test_sigterm_lets_the_in_flight_job_finish(alice, start_worker):
    """Warm shutdown: SIGTERM to the worker; the running extraction completes; the worker exits 0."""
    document, run = upload(alice, "GeoTopo-komprimiert.pdf")
    worker = start_worker("cpu_high", "cpu_default", "cpu_low")
    wait_for(lambda: DocumentPage.objects.filter(document=document).count() >= 5, 60, "extraction to start")
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(120) == 0
    run.refresh_from_db()
    document.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 1
    assert DocumentPage.objects.filter(document=document).count() == 117


def test_production_defaults_notice_a_dead_worker_within_two_minutes():
    """Heartbeat interval + grace + recovery interval bound how long a dead worker goes unnoticed."""
    worst_case = settings.JOBS_HEARTBEAT_INTERVAL_S + settings.JOBS_HEARTBEAT_GRACE_S + settings.JOBS_RECOVERY_INTERVAL_S
    assert worst_case <= 120


def test_a_stop_requested_during_recovery_stops_the_worker(monkeypatch):
    """RQ raises StopRequested from its SIGTERM handler when idle; recovery must not swallow it."""
    from rq.exceptions import StopRequested

    from jobs import worker as worker_module
    from jobs.connection import get_queue, get_redis

    def interrupted():
        raise StopRequested()

    monkeypatch.setattr(worker_module, "recover_lost_runs", interrupted)
    idle = worker_module.SimpleWorker([get_queue("cpu_low")], connection=get_redis())
    with pytest.raises(StopRequested):
        idle.run_maintenance_tasks()
