"""Cancelling a running extraction on a real forking worker: RQ's stop command kills the
work-horse at once, the worker records the run cancelled, and the worker keeps working."""

from __future__ import annotations

import pytest
from rq.job import Job, JobStatus

from jobs.connection import get_redis
from jobs.control import cancel_run
from jobs.models import JobRun
from studyapp.documents.models import DocumentPage
from tests.jobs.test_reconciler_forking import upload, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# No progress point checks the cancel flag within a stage, so only RQ's stop can end the run.
NO_COOPERATIVE_CHECK = {"JOBS_DB_PROGRESS_INTERVAL_S": "1000"}


def test_cancelling_a_running_run_stops_its_work_horse_and_its_dependents(alice, settings, start_worker):
    """Stopped mid-extraction through RQ; run and graph run cancelled; the next document still runs."""
    settings.PIPELINE_AUTO_GRAPH = True
    document = upload(alice, "GeoTopo-komprimiert.pdf")
    run = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    graph_run = JobRun.objects.get(kind="generate_graph")
    worker = start_worker("cpu_high", "cpu_default", "cpu_low", extra_env=NO_COOPERATIVE_CHECK)
    wait_for(lambda: DocumentPage.objects.filter(document=document).count() >= 5, 90, "extraction to start")

    assert cancel_run(JobRun.objects.get(pk=run.pk)) is True
    wait_for(lambda: JobRun.objects.get(pk=run.pk).is_finished, 30, "the run to end")

    run.refresh_from_db()
    graph_run.refresh_from_db()
    document.refresh_from_db()
    assert (run.status, run.error) == ("cancelled", "cancelled by the user")
    assert graph_run.status == "cancelled"
    assert Job.fetch(str(run.id), connection=get_redis()).get_status() == JobStatus.STOPPED
    assert DocumentPage.objects.filter(document=document).count() < 117, "stopped before the end"
    assert document.status == "failed" and document.error == "cancelled by the user"

    settings.PIPELINE_AUTO_GRAPH = False
    small = upload(alice, "pdflatex-4-pages.pdf")
    wait_for(lambda: JobRun.objects.get(subject_id=small.pk, kind="extract_document").is_finished, 60,
             "the next document")
    assert JobRun.objects.get(subject_id=small.pk, kind="extract_document").status == "succeeded"
    assert worker.poll() is None
