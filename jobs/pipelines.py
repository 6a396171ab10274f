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


def document_upload(*, owner, upload: IO[bytes], filename: str, title: str = "", password: str = "") -> tuple[Document, JobRun | None]:
    """Store the PDF and ask for its extraction. The same file twice: the same document and run."""
    with transaction.atomic():
        document, created = document_create(owner=owner, upload=upload, filename=filename, title=title, password=password)
        if created or document.status == Document.Status.QUEUED:
            extraction = submit("extract_document", document, owner)
            if settings.PIPELINE_AUTO_GRAPH:
                graph_submit(document=document, owner=owner, upstream=extraction)
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
