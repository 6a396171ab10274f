"""create_quiz through the job layer (real Redis, in-process worker): the chain, idempotency, failures."""

from __future__ import annotations

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload, quiz_request
from studyapp.quizzes.models import Quiz
from tests.conftest import pdf_path
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)


def upload(owner, name="pdflatex-4-pages.pdf", password=""):
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name, password=password)


def test_an_upload_writes_a_quiz_after_the_graph(alice, settings):
    """extract -> graph -> quiz as an RQ chain, with default settings."""
    settings.AI_PROVIDER = "local"
    document, _ = upload(alice)
    drain()
    run = JobRun.objects.get(kind="create_quiz")
    assert run.status == "succeeded", (run.stage, run.error)
    quiz = Quiz.objects.get()
    print(quiz.stats)
    for q in quiz.questions.all():
        print(q.type, q.prompt, q.answer, q.options)
    assert quiz.status == "ready"
