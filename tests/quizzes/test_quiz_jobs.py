"""create_quiz through the job layer (real Redis, in-process worker): the chain after the graph,
on-demand requests, idempotency, stages in job meta, and clear failures."""

from __future__ import annotations

import io

import pytest

from jobs import progress as job_progress
from jobs.control import retry_run
from jobs.models import JobRun
from jobs.pipelines import document_upload, quiz_request
from jobs.selectors import pipeline_runs
from studyapp.quizzes.errors import QuizError
from studyapp.quizzes.models import Quiz
from studyapp.web.quizzes import shortfall_note
from tests.conftest import pdf_path
from tests.fixtures import make_pdfs
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _local(settings):
    settings.AI_PROVIDER = "local"


def upload(owner, name="pdflatex-4-pages.pdf", password=""):
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name, password=password)


def quiz_run(quiz: Quiz) -> JobRun:
    return JobRun.objects.filter(kind="create_quiz", subject_id=quiz.pk).latest("created_at")


def test_an_upload_writes_a_quiz_after_the_graph_with_default_settings(alice, settings):
    """extract -> graph -> quiz as one RQ chain; the quiz has the configured defaults."""
    settings.QUIZ_DEFAULT_COUNT = 6
    document, _ = upload(alice, "google-doc-document.pdf")
    graph_run = JobRun.objects.get(kind="generate_graph")
    quiz = Quiz.objects.get(document=document)
    assert quiz_run(quiz).upstream == graph_run and quiz.status == "queued"
    drain()
    run = quiz_run(quiz)
    assert run.status == "succeeded" and run.queue == "ai_default", (run.stage, run.error)
    quiz.refresh_from_db()
    assert quiz.status == "ready" and quiz.count == 6 and quiz.types == settings.QUIZ_DEFAULT_TYPES
    # A one-page document: fewer good questions than asked for, and the quiz says why.
    assert 0 < quiz.questions.count() == quiz.stats["saved"] <= 6
    if quiz.stats["saved"] < 6:
        assert shortfall_note(quiz)
    assert run.usage == {"prompt_tokens": 0, "completion_tokens": 0}
    assert [(r.kind, r.status) for r in pipeline_runs(document)] == [
        ("extract_document", "succeeded"), ("generate_graph", "succeeded"), ("create_quiz", "succeeded")]


def test_the_stages_go_to_job_meta(alice, settings, monkeypatch):
    """selecting concepts -> writing questions i/n -> validating -> saving, as RQ's job.meta shows them."""
    settings.PIPELINE_AUTO_QUIZ = False
    upload(alice)
    drain()
    seen: list[str] = []
    original = job_progress.ProgressReporter._write_meta

    def record(self, snapshot):
        if self.run.kind == "create_quiz":
            seen.append(snapshot["stage"])
        original(self, snapshot)

    monkeypatch.setattr(job_progress.ProgressReporter, "_write_meta", record)
    quiz, run = quiz_request(document=alice.documents.get(), owner=alice, count=7)
    drain()
    # Steps within a stage ("writing questions 1/2") reach job.meta at most every 0.25 s.
    stages = [job_progress.stage_key(stage) for stage in seen]
    assert stages[:3] == ["selecting concepts", "writing questions #/#", "validating"] and stages[-1] == "saving"
    assert seen[1] == "writing questions 0/2"


def test_the_same_request_twice_gives_the_same_quiz_and_run(alice, settings):
    """Idempotent while it is written, and once it is ready (then no run at all)."""
    settings.PIPELINE_AUTO_QUIZ = False
    document, _ = upload(alice)
    drain()
    first, run = quiz_request(document=document, owner=alice, count=5, difficulty="easy", types=["true_false"])
    again, run_again = quiz_request(document=document, owner=alice, count=5, difficulty="easy", types=["true_false"])
    assert (again.pk, run_again.pk) == (first.pk, run.pk) and run.upstream is None
    other, other_run = quiz_request(document=document, owner=alice, count=5, difficulty="hard", types=["true_false"])
    assert other.pk != first.pk and other_run.pk != run.pk
    drain()
    ready, no_run = quiz_request(document=document, owner=alice, count=5, difficulty="easy", types=["true_false"])
    assert ready.pk == first.pk and ready.status == "ready" and no_run is None
    assert JobRun.objects.filter(kind="create_quiz").count() == 2


def test_a_quiz_asked_for_before_the_graph_waits_for_it(alice, settings):
    """No graph yet: the quiz run depends on the graph run (started here if there is none)."""
    settings.PIPELINE_AUTO_GRAPH = False
    document, extraction = upload(alice)
    quiz, run = quiz_request(document=document, owner=alice, count=4)
    graph_run = JobRun.objects.get(kind="generate_graph")
    assert run.upstream == graph_run and graph_run.upstream == extraction
    drain()
    run.refresh_from_db()
    assert run.status == "succeeded" and Quiz.objects.get(pk=quiz.pk).status == "ready"


def test_a_failed_graph_fails_the_quiz_run_with_its_reason(alice):
    """The chain never hangs: each run downstream says why it failed."""
    document, _ = upload(alice, "libreoffice-writer-password.pdf")
    drain()
    quiz = Quiz.objects.get(document=document)
    run = quiz_run(quiz)
    assert run.status == "failed"
    assert run.error == "graph generation failed: extraction failed: This PDF is password-protected: password required."
    quiz.refresh_from_db()
    assert quiz.status == "failed" and quiz.error == run.error


def test_a_document_with_nothing_to_ask_about_fails_its_quiz_clearly_and_at_once(alice):
    """Arabic text the local provider finds no concepts in: one attempt, a readable reason."""
    document, _ = upload(alice, "habibi.pdf")
    drain()
    quiz = Quiz.objects.get(document=document)
    run = quiz_run(quiz)
    assert (run.status, run.attempts) == ("failed", 1)
    assert run.error == "This document has too little readable text about its concepts to write a quiz from."
    assert Quiz.objects.get(pk=quiz.pk).error == run.error


def test_a_failed_quiz_asked_for_again_or_retried_is_written_again(alice):
    """Asked again after the password arrived: same quiz, a new run; retry_run requeues the quiz too."""
    locked = make_pdfs.encrypted_copy(pdf_path("pdflatex-4-pages.pdf").read_bytes(), "openpassword")
    document, _ = document_upload(owner=alice, upload=io.BytesIO(locked), filename="locked.pdf")
    drain()
    quiz = Quiz.objects.get(document=document)
    failed = quiz_run(quiz)
    assert retry_run(failed) and Quiz.objects.get(pk=quiz.pk).status == "queued"
    drain()
    assert Quiz.objects.get(pk=quiz.pk).status == "failed"  # the graph is still missing
    document_upload(owner=alice, upload=io.BytesIO(locked), filename="locked.pdf", password="openpassword")
    drain()
    quiz.refresh_from_db()
    assert quiz.status == "ready" and quiz.questions.exists()
    assert Quiz.objects.filter(document=document).count() == 1
    assert quiz_run(quiz).status == "succeeded" and quiz_run(quiz).pk != failed.pk


def test_bad_requests_are_refused_before_anything_is_queued(alice, settings):
    """Unknown types, impossible counts, a document that failed: clear errors, no run."""
    document, _ = upload(alice, "unreadablemetadata.pdf")
    drain()
    runs = JobRun.objects.count()
    with pytest.raises(QuizError, match="could not be processed"):
        quiz_request(document=document, owner=alice)
    good, _ = upload(alice)
    with pytest.raises(QuizError, match="Unknown question type"):
        quiz_request(document=good, owner=alice, types=["essay"])
    with pytest.raises(QuizError, match="between 1 and 50"):
        quiz_request(document=good, owner=alice, count=500)
    assert JobRun.objects.count() == runs + 3  # only the second upload's extract, graph and quiz
