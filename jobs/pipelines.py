"""What an upload starts: the document and its extraction run, in one transaction.

Interfaces (admin, web, API, `manage.py process`) call these rather than the domain services
directly, because asking for background work is the job layer's business.
"""

from __future__ import annotations

from typing import IO

from django.conf import settings
from django.db import transaction

from jobs.control import cancel_run
from jobs.models import JobRun
from jobs.selectors import latest_run, runs_for_document
from jobs.submit import submit
from studyapp.core.errors import Conflict
from studyapp.documents import services as documents
from studyapp.documents.models import Document
from studyapp.ai.providers import default_model
from studyapp.documents.services import document_create
from studyapp.graphs.explanations import explanation_find
from studyapp.graphs.models import Concept, ConceptGraph, Explanation
from studyapp.graphs.services import current_graph
from studyapp.quizzes.errors import DocumentFailed
from studyapp.quizzes.models import Quiz
from studyapp.quizzes.services import quiz_create, quiz_requeue


def document_upload(*, owner, upload: IO[bytes], filename: str, title: str = "", password: str = "") -> tuple[Document, JobRun | None]:
    """Store the PDF and ask for its extraction. The same file twice: the same document and run."""
    with transaction.atomic():
        document, created = document_create(owner=owner, upload=upload, filename=filename, title=title, password=password)
        if created or document.status == Document.Status.QUEUED:
            extraction = submit("extract_document", document, owner)
            if settings.PIPELINE_AUTO_GRAPH:
                graph = graph_submit(document=document, owner=owner, upstream=extraction)
                if settings.PIPELINE_AUTO_QUIZ:
                    quiz_request(document=document, owner=owner, upstream=graph)
            return document, extraction
        return document, latest_run(document, kind="extract_document")


def graph_submit(*, document: Document, owner, provider: str | None = None, model: str | None = None,
                 upstream: JobRun | None = None) -> JobRun:
    """Ask for the document's concept graph (after `upstream`, usually its extraction)."""
    provider = provider or settings.AI_PROVIDER
    payload = {"provider": provider, "model": model or default_model(provider)}
    return submit("generate_graph", document, owner, payload, upstream=upstream)


def explanation_request(*, graph: ConceptGraph, source: Concept, target: Concept, owner) -> Explanation | JobRun:
    """The stored explanation of the pair, or the run that is (or will be) writing it."""
    stored = explanation_find(graph=graph, source=source, target=target)
    if stored is not None:
        return stored
    return submit("explain_connection", graph, owner, {"source_id": source.pk, "target_id": target.pk})


# --- quizzes (issue 4) ----------------------------------------------------------------------------


def quiz_request(*, document: Document, owner, count: int | None = None, difficulty: str | None = None,
                 types: list[str] | None = None, upstream: JobRun | None = None) -> tuple[Quiz, JobRun | None]:
    """The quiz for this request and the run writing it (None once it is ready).

    Defaults come from settings (QUIZ_DEFAULT_*). The same request twice gives the same quiz and,
    while it is being written, the same run; a failed quiz asked for again is written again. The
    run waits for `upstream`, or for the document's unfinished graph run, or, if the document has
    no graph yet, for a graph run started here.

    Raises:
        QuizError: a count, difficulty or type that cannot be asked for.
        DocumentFailed: the document could not be processed (a QuizError and a Conflict).
    """
    status, error = Document.objects.filter(pk=document.pk).values_list("status", "error").get()
    if status == Document.Status.FAILED:
        raise DocumentFailed(f"This document could not be processed, so no quiz can be written from it: {error}")
    provider = settings.AI_PROVIDER
    model = default_model(provider)
    with transaction.atomic():
        quiz, _ = quiz_create(document=document, owner=owner, count=count, difficulty=difficulty, types=types,
                              provider=provider, model=model)
        if quiz.status == Quiz.Status.READY:
            return quiz, None
        if quiz.status == Quiz.Status.FAILED:
            quiz_requeue(quiz_id=quiz.pk)
            quiz.refresh_from_db()
        payload = {"count": quiz.count, "difficulty": quiz.difficulty, "types": quiz.types,
                   "provider": quiz.provider, "model": quiz.model}
        run = submit("create_quiz", quiz, owner, payload, upstream=upstream or _graph_run_to_wait_for(document, owner))
        return quiz, run


def _graph_run_to_wait_for(document: Document, owner) -> JobRun | None:
    graph_run = latest_run(document, kind="generate_graph")
    if graph_run is not None and not graph_run.is_finished:
        return graph_run
    if current_graph(document) is not None:
        return None
    extraction = latest_run(document, kind="extract_document")
    upstream = extraction if extraction is not None and not extraction.is_finished else None
    return graph_submit(document=document, owner=owner, upstream=upstream)


# --- REST API (issue 5) ----------------------------------------------------------------------

def document_delete(*, document: Document) -> None:
    """Cancel the document's unfinished runs (and those on its graphs), then delete it.

    A queued or waiting run ends cancelled at once; a running one is stopped (at once with a forking
    worker, else at its next progress point) and ends cancelled, not failed, because its cancel flag
    is set before the document goes. The runs themselves are kept, as the owner's history.
    """
    for run in runs_for_document(document).filter(status__in=JobRun.UNFINISHED):
        cancel_run(run)
    documents.document_delete(document=document)


def graph_regenerate(*, document: Document, owner, provider: str | None = None, model: str | None = None) -> JobRun:
    """Build the document's graph again with `provider`/`model`; the current graph serves until then.

    If the document is still being read, the build waits for its extraction run.

    Raises:
        Conflict: the document failed to process, so there is no text to build from.
    """
    if document.status == Document.Status.FAILED:
        raise Conflict("This document could not be processed, so there is no text to build a graph from.")
    upstream = None
    if document.status != Document.Status.READY:
        upstream = latest_run(document, kind="extract_document")
    return graph_submit(document=document, owner=owner, provider=provider, model=model, upstream=upstream)
