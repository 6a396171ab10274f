"""Nothing is lost: documents in flight through real forking workers survive Redis losing
everything (FLUSHALL, or a restart without persistence) and complete exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.documents.models import Document, DocumentPage
from studyapp.graphs.models import ConceptGraph
from studyapp.quizzes.models import Quiz
from tests.conftest import pdf_path

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FAST = {"JOBS_HEARTBEAT_INTERVAL_S": "1", "JOBS_HEARTBEAT_GRACE_S": "3", "JOBS_RECOVERY_INTERVAL_S": "2",
        "JOBS_ENQUEUE_GRACE_S": "3"}
BIG = "GeoTopo-komprimiert.pdf"  # 117 pages: still extracting when Redis loses everything
SMALL = ["pdflatex-4-pages.pdf", "google-doc-document.pdf", "crazyones-pdfa.pdf"]


def upload(owner, name: str) -> Document:
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name)[0]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def worker_logs(workers) -> str:
    return "".join(Path(worker.log_path).read_text(errors="replace") for worker in workers)


def start_pools(start_worker):
    return [start_worker("cpu_high", "cpu_default", "cpu_low", extra_env=FAST),
            start_worker("ai_high", "ai_default", "ai_low", extra_env=FAST)]


def in_flight(alice, settings, start_worker) -> tuple[list[Document], list]:
    settings.PIPELINE_AUTO_GRAPH = True
    big = upload(alice, BIG)
    documents = [big, *(upload(alice, name) for name in SMALL)]
    workers = start_pools(start_worker)
    wait_for(lambda: DocumentPage.objects.filter(document=big).count() >= 8, 90, "the big extraction to start")
    return documents, workers


def assert_each_completed_once(documents: list[Document]) -> None:
    wait_for(lambda: not JobRun.objects.filter(status__in=JobRun.UNFINISHED).exists(), 240,
             "every run to finish")
    for document in documents:
        document.refresh_from_db()
        assert document.status == "ready", (document.title, document.error)
        indexes = list(DocumentPage.objects.filter(document=document).values_list("index", flat=True))
        assert sorted(indexes) == list(range(document.page_count)), "exactly one row per page"
        graphs = ConceptGraph.objects.filter(document=document)
        assert graphs.count() == 1 and graphs.get().status == "ready"
        quizzes = Quiz.objects.filter(document=document)
        assert quizzes.count() == 1 and quizzes.get().status == "ready"
    runs = JobRun.objects.all()
    assert runs.count() == 3 * len(documents)  # extract -> graph -> quiz, each once
    for run in runs:
        assert run.status == "succeeded", (run.kind, run.status, run.error)
        assert 1 <= run.attempts <= run.max_attempts


def test_every_document_completes_once_after_a_flushall(alice, settings, start_worker, redis_server):
    """FLUSHALL mid-extraction: queued and deferred work is re-enqueued, the live horse finishes alone."""
    documents, workers = in_flight(alice, settings, start_worker)
    big_run = JobRun.objects.get(kind="extract_document", subject_id=documents[0].pk)
    redis_server.client().flushall()
    assert_each_completed_once(documents)
    big_run.refresh_from_db()
    assert big_run.attempts == 1, "the extraction that was running during the flush was not started again"
    assert all(worker.poll() is None for worker in workers), "the workers survived the flush"
    assert "is lost: Redis no longer has the job" in worker_logs(workers), "the reconciler did the work"


def test_every_document_completes_once_after_redis_restarts_empty(alice, settings, start_worker, redis_server):
    """Redis stops and comes back without its data; the work still completes, without duplicates."""
    documents, workers = in_flight(alice, settings, start_worker)
    redis_server.stop()
    time.sleep(1)
    redis_server.start()

    # A supervisor (compose's restart policy) restarts a worker that gave up while Redis was away.
    def restart_dead_workers():
        for i, worker in enumerate(workers):
            if worker.poll() is not None:
                queues = ("cpu_high", "cpu_default", "cpu_low") if i == 0 else ("ai_high", "ai_default", "ai_low")
                workers[i] = start_worker(*queues, extra_env=FAST)
        return not JobRun.objects.filter(status__in=JobRun.UNFINISHED).exists()

    wait_for(restart_dead_workers, 240, "every run to finish")
    assert_each_completed_once(documents)
    assert "is lost: Redis no longer has the job" in worker_logs(workers)
