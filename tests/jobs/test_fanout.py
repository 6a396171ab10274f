"""Big documents fan out (issue 6): page-range parts on any worker, one bar, then assembly.

A 12-page PDF with EXTRACT_FANOUT_PAGES=10 and EXTRACT_FANOUT_CHUNK=5 is split into 3 parts
(pages 1-5, 6-10, 11-12). In-process tests run the jobs with the drain helpers on real Redis; the
slow test uses two real forking workers.
"""

from __future__ import annotations

import io
import time

import pytest
from rq.worker import Worker as RQWorker

from jobs.connection import get_queue, get_redis
from jobs.control import cancel_run, retry_run
from jobs.live import live_progress
from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.policies import all_queue_names
from jobs.selectors import current_run, pipeline_runs, runs_for_owner
from studyapp.core.errors import PermanentError, TransientError
from studyapp.documents import services
from studyapp.documents.models import Document, DocumentPage
from studyapp.web.runs import pipeline
from tests.fixtures.make_pdfs import text_pdf
from tests.jobs.helpers import QuietSimpleWorker, drain, drain_with_retries

pytestmark = pytest.mark.django_db(transaction=True)

# Printed labels: i, ii, then 1, 2, ... (a preface in roman numerals).
LABELS = b"/PageLabels << /Nums [0 << /S /r >> 2 << /S /D >>] >>"


def labelled_pdf(n: int) -> bytes:
    return text_pdf([[f"Fan-out test page {i + 1} about topology and graphs."] for i in range(n)], catalog_extra=LABELS)


def expected_labels(n: int) -> list[str]:
    return ["i", "ii"] + [str(i) for i in range(1, n - 1)]


@pytest.fixture
def fanout(settings):
    settings.EXTRACT_FANOUT_PAGES = 10
    settings.EXTRACT_FANOUT_CHUNK = 5
    return settings


def upload(owner, n: int = 12) -> tuple[Document, JobRun]:
    return document_upload(owner=owner, upload=io.BytesIO(labelled_pdf(n)), filename=f"big-{n}.pdf")


def parts(document: Document) -> list[JobRun]:
    return sorted(JobRun.objects.filter(kind="extract_pages", subject_id=document.pk),
                  key=lambda r: (r.payload["first"], r.created_at))


def assert_pages_once_in_order(document: Document, n: int) -> None:
    rows = list(DocumentPage.objects.filter(document=document).order_by("index").values_list("index", "label", "text"))
    assert [i for i, _, _ in rows] == list(range(n)), "every page exactly once"
    assert [label for _, label, _ in rows] == expected_labels(n)
    assert all(f"page {i + 1} about" in text for i, _, text in rows)


def test_a_big_document_is_extracted_in_parts_then_assembled_and_the_pipeline_goes_on(alice, fanout):
    """3 parts, pages once and in order with their printed labels, document ready; graph and quiz
    run after the assembly, and the parts stay out of the pipeline and job lists."""
    document, run = upload(alice)
    drain()
    document.refresh_from_db()
    run.refresh_from_db()
    assert (document.status, document.page_count) == ("ready", 12)
    assert (run.status, run.attempts, run.percent) == ("succeeded", 1, 100.0)
    assert_pages_once_in_order(document, 12)
    assert [(p.payload["first"], p.payload["last"], p.status) for p in parts(document)] == [
        (0, 4, "succeeded"), (5, 9, "succeeded"), (10, 11, "succeeded")]
    assert all(p.queue == run.queue for p in parts(document)), "parts run on the parent's queue"

    steps = pipeline_runs(document)
    assert [r.kind for r in steps] == ["extract_document", "generate_graph", "create_quiz"]
    assert all(r.status == "succeeded" for r in steps)
    graph = steps[1]
    assert graph.started_at >= run.finished_at, "the graph waited for the assembled document"
    assert max(p.finished_at for p in parts(document)) <= graph.started_at
    assert [v.kind for v in pipeline(document)] == ["extract_document", "generate_graph", "create_quiz"]
    assert not runs_for_owner(alice).filter(kind="extract_pages").exists()


def test_while_the_parts_run_the_parent_is_the_one_bar_of_the_document(alice, fanout):
    """After the parent and one part ran: the parent waits, showing pages stored over all parts;
    the admin's current run of the document is the parent, not a part."""
    document, run = upload(alice)
    worker = QuietSimpleWorker([get_queue(name) for name in all_queue_names()], connection=get_redis())
    worker.work(burst=True, max_jobs=2)  # the parent (it fans out and waits), then pages 1-5
    run.refresh_from_db()
    assert run.status == "waiting" and run.attempts == 0, "waiting for parts spends no attempt"
    assert run.stage == "extracting pages in parallel: 5/12 pages, 1/3 parts done"
    assert run.percent == pytest.approx(41.7)
    assert (run.progress["done"], run.progress["total"]) == (5, 12)
    shown = live_progress(run)  # what the admin, the web UI and the API show
    assert (shown["status"], shown["stage"], shown["done"], shown["total"]) == (
        "waiting", "extracting pages in parallel: 5/12 pages, 1/3 parts done", 5, 12)
    assert shown["eta_s"] is not None  # the parts' pace, before the parent looks again
    assert current_run(document).pk == run.pk
    assert [r.pk for r in pipeline_runs(document)][:1] == [run.pk]

    drain()
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert_pages_once_in_order(document, 12)


def test_a_part_that_fails_for_good_fails_the_document_and_downstream_and_a_retry_finishes_it(alice, fanout, monkeypatch):
    """Pages 6-10 cannot be read: the document, its extraction, graph and quiz runs fail with that
    reason. Retrying the extraction extracts only the missing range, again without duplicates."""
    real = services.document_extract_range

    def broken_middle(*, document, first, last, options, progress):
        if first == 5:
            raise PermanentError("page 7 is damaged and cannot be read.")
        return real(document=document, first=first, last=last, options=options, progress=progress)

    monkeypatch.setattr(services, "document_extract_range", broken_middle)
    document, run = upload(alice)
    drain_with_retries()
    document.refresh_from_db()
    run.refresh_from_db()
    reason = "Pages 6-10 could not be extracted: page 7 is damaged and cannot be read."
    assert (run.status, document.status) == ("failed", "failed")
    assert run.error == reason and document.error == reason
    failed_part = next(p for p in parts(document) if p.payload["first"] == 5)
    assert (failed_part.status, failed_part.attempts) == ("failed", 1), "a permanent error is not retried"
    downstream = [r for r in pipeline_runs(document) if r.kind != "extract_document"]
    assert [r.kind for r in downstream] == ["generate_graph", "create_quiz"]
    assert all(r.status == "failed" for r in downstream)
    assert reason in downstream[0].error

    monkeypatch.setattr(services, "document_extract_range", real)
    assert retry_run(run)
    drain_with_retries()
    document.refresh_from_db()
    run.refresh_from_db()
    assert (run.status, document.status) == ("succeeded", "ready")
    assert_pages_once_in_order(document, 12)
    middle = [p for p in parts(document) if p.payload["first"] == 5]
    assert [(p.status, p.discarded_at is not None) for p in middle] == [("failed", True), ("succeeded", False)]
    assert [p.payload["first"] for p in parts(document)].count(0) == 1, "complete ranges are not redone"
    assert all(r.status == "succeeded" for r in pipeline_runs(document))


def test_a_transient_failure_retries_that_part_only_and_never_duplicates_a_page(alice, fanout, monkeypatch, tmp_path):
    """Pages 6-10 fail after two pages were stored: that part alone retries and resumes."""
    real = services.extract_pages
    calls = tmp_path / "middle-calls"  # a file: extraction runs in the sandbox's child process

    def flaky(data, *, only=None, **kwargs):
        pages = real(data, only=only, **kwargs)
        if only is None or only.start != 5:
            yield from pages
            return
        with calls.open("a") as fh:
            fh.write("call\n")
        first_call = calls.read_text().count("call") == 1
        for count, page in enumerate(pages):
            if first_call and count == 2:
                raise TransientError("the storage blinked")
            yield page

    monkeypatch.setattr(services, "extract_pages", flaky)
    document, run = upload(alice)
    drain_with_retries()
    document.refresh_from_db()
    run.refresh_from_db()
    assert (run.status, document.status) == ("succeeded", "ready")
    assert_pages_once_in_order(document, 12)
    assert [(p.payload["first"], p.attempts) for p in parts(document)] == [(0, 1), (5, 2), (10, 1)]
    assert calls.read_text().count("call") == 2


def test_a_document_at_the_threshold_is_extracted_in_one_run(alice, fanout):
    document, run = upload(alice, n=10)
    drain()
    document.refresh_from_db()
    assert document.status == "ready" and not parts(document)
    assert_pages_once_in_order(document, 10)


def test_cancelling_the_waiting_extraction_cancels_its_parts(alice, fanout):
    document, run = upload(alice)
    worker = QuietSimpleWorker([get_queue(name) for name in all_queue_names()], connection=get_redis())
    worker.work(burst=True, max_jobs=1)  # the parent submits its parts and waits
    assert cancel_run(run)
    drain()
    run.refresh_from_db()
    document.refresh_from_db()
    assert run.status == "cancelled" and document.status == "failed"
    assert [p.status for p in parts(document)] == ["cancelled"] * 3
    assert DocumentPage.objects.filter(document=document).count() == 0


@pytest.mark.slow
def test_two_forking_workers_share_the_parts_of_one_document(alice, settings, start_worker):
    """Two real workers: both take parts; the document is complete, once per page, then graphed."""
    env = {"EXTRACT_FANOUT_PAGES": "20", "EXTRACT_FANOUT_CHUNK": "20"}
    settings.EXTRACT_FANOUT_PAGES, settings.EXTRACT_FANOUT_CHUNK = 20, 20
    settings.PIPELINE_AUTO_QUIZ = False
    for _ in range(2):
        start_worker(extra_env=env)
    deadline = time.monotonic() + 60
    while len(RQWorker.all(connection=get_redis())) < 2:
        assert time.monotonic() < deadline, "workers did not start"
        time.sleep(0.1)
    document, run = upload(alice, n=160)
    deadline = time.monotonic() + 240
    while True:
        graph = JobRun.objects.filter(kind="generate_graph", subject_id=document.pk).first()
        if graph is not None and graph.is_finished:
            break
        assert time.monotonic() < deadline, "the pipeline did not finish"
        time.sleep(0.2)
    run.refresh_from_db()
    document.refresh_from_db()
    assert (run.status, graph.status, document.status) == ("succeeded", "succeeded", "ready")
    assert_pages_once_in_order(document, 160)
    assert len(parts(document)) == 8 and all(p.status == "succeeded" for p in parts(document))
    assert len({p.worker_name for p in parts(document)}) == 2, "both workers took parts"


def test_a_flushall_in_the_middle_of_a_fan_out_loses_nothing_and_duplicates_no_page(alice, fanout):
    """The parent waits with one part done when Redis is flushed: the reconciler puts back the
    parent and the parts Redis forgot; the document completes once, every page stored once."""
    from jobs.recovery import recover_lost_runs
    from tests.jobs.test_reconciler import settle

    document, run = upload(alice)
    worker = QuietSimpleWorker([get_queue(name) for name in all_queue_names()], connection=get_redis())
    worker.work(burst=True, max_jobs=2)  # the parent fans out and waits, then pages 1-5 are stored
    assert DocumentPage.objects.filter(document=document).count() == 5

    get_redis().flushall()
    settle()
    recovered = set(recover_lost_runs())
    unfinished = set(JobRun.objects.filter(status__in=JobRun.UNFINISHED).values_list("id", flat=True))
    assert {str(pk) for pk in unfinished} <= recovered, "every unfinished run is back in Redis"
    drain_with_retries()

    document.refresh_from_db()
    run.refresh_from_db()
    assert (document.status, run.status) == ("ready", "succeeded")
    assert_pages_once_in_order(document, 12)
    assert [p.status for p in parts(document)] == ["succeeded"] * 3, "no part submitted twice"
    assert all(r.status == "succeeded" for r in pipeline_runs(document))
