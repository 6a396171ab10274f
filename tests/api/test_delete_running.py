"""Deleting a document whose extraction is running, with a real forking worker."""

from __future__ import annotations

import time

import pytest

from jobs.models import JobRun
from studyapp.documents.models import Document
from tests.api.conftest import upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def wait_for(condition, timeout: float = 60.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_deleting_a_document_while_it_is_extracted_stops_the_job_and_the_worker_goes_on(
        client, alice, alice_key, start_worker, settings):
    """DELETE during extraction: 204, the running run ends cancelled (not failed), its graph run too; the
    worker survives and runs the next upload."""
    worker = start_worker(extra_env={"JOBS_RECOVERY_INTERVAL_S": "1"})
    document = upload(alice, "GeoTopo-komprimiert.pdf")  # 117 pages: long enough to catch it running
    extraction = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    wait_for(lambda: JobRun.objects.filter(pk=extraction.pk, status="running").exists(), what="extraction to run")
    response = client.delete(f"/api/documents/{document.pk}", headers={"authorization": f"Bearer {alice_key}"})
    assert response.status_code == 204
    assert not Document.objects.filter(pk=document.pk).exists()
    wait_for(lambda: JobRun.objects.get(pk=extraction.pk).is_finished, what="the running run to end")
    assert set(JobRun.objects.filter(owner=alice).values_list("status", flat=True)) == {"cancelled"}
    assert worker.poll() is None, "the worker is still running"
    after = upload(alice, "pdflatex-4-pages.pdf")
    wait_for(lambda: Document.objects.get(pk=after.pk).status == "ready", what="the next upload")
