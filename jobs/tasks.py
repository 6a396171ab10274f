"""The job functions, one per kind. Thin on purpose: load the subject, call a domain service with
the progress reporter, return a small summary. Retries, errors and progress rows are the runner's
business (jobs/runner.py); how each kind is queued and retried is in jobs/policies.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from django.conf import settings
from django.db import transaction

from jobs import fanout, metrics
from jobs.models import JobRun
from jobs.policies import policy_for
from jobs.ratelimit import ProviderLimiter
from studyapp.ai.providers import CachedProvider, get_provider
from studyapp.ai.schemas import Usage
from studyapp.core.progress import ProgressCallback
from studyapp.documents import services as documents
from studyapp.documents.extraction import ExtractionOptions
from studyapp.documents.models import Document
from studyapp.graphs import explanations, services as graphs
from studyapp.graphs.models import Concept, ConceptGraph
from studyapp.quizzes import services as quizzes
from studyapp.quizzes.models import Quiz
from studyapp.webhooks import services as webhooks
from studyapp.webhooks.models import WebhookDelivery


@dataclass(frozen=True)
class Task:
    run: Callable[[JobRun, ProgressCallback], Any]
    # Called once when the run ends failed or cancelled, with the message for the student.
    on_failure: Callable[[JobRun, str], None]
    # Called when a failed or cancelled run is put back on its queue.
    on_retry: Callable[[JobRun], None]


def extract_document(run: JobRun, progress: ProgressCallback) -> dict:
    document = Document.objects.get(pk=run.subject_id)
    if not fanout.has_parts(run):
        # A document over EXTRACT_FANOUT_PAGES is only opened and checked here (None), then fans out.
        summary = documents.document_extract(document=document, options=_extraction_options(run.kind),
                                             progress=progress, split_above=settings.EXTRACT_FANOUT_PAGES)
        if summary is not None:
            return summary
    return fanout.fan_out_or_assemble(
        run, document, progress, assemble=lambda: documents.document_finish(document=document, progress=progress))


def _extraction_options(kind: str) -> ExtractionOptions:
    policy = policy_for(kind)
    return ExtractionOptions(
        page_cap=policy.page_cap,
        time_budget_s=policy.time_budget_s,
        ocr=settings.OCR_ENABLED,
        ocr_languages=settings.OCR_LANGUAGES,
        sandbox=policy.sandbox,
    )


def extract_document_failed(run: JobRun, message: str) -> None:
    documents.document_mark_failed(document_id=run.subject_id, error=message)
    fanout.cancel_parts(run, message)


def extract_document_retried(run: JobRun) -> None:
    documents.document_requeue(document_id=run.subject_id)
    fanout.parts_retried(run)


# --- fan-out (issue 6): a page range of a big document (jobs.fanout) ---


def extract_pages(run: JobRun, progress: ProgressCallback) -> dict:
    document = Document.objects.get(pk=run.subject_id)
    bar = fanout.ParentBar(run, progress)
    summary = documents.document_extract_range(
        document=document, first=run.payload["first"], last=run.payload["last"],
        options=_extraction_options(run.kind), progress=bar)
    bar.update_parent()
    fanout.part_ended(run)
    return summary


def extract_pages_failed(run: JobRun, message: str) -> None:
    fanout.part_ended(run)  # the parent fails the document with this part's reason


def generate_graph(run: JobRun, progress: ProgressCallback) -> dict:
    graph = _graph_of(run)
    ConceptGraph.objects.filter(pk=graph.pk, status=ConceptGraph.Status.FAILED).update(
        status=ConceptGraph.Status.BUILDING, error="")
    with usage_recorded(run, _provider(run)) as provider:
        stats = graphs.graph_build(graph=graph, provider=provider, progress=progress)
    return {"graph_id": graph.pk, **stats}


def generate_graph_failed(run: JobRun, message: str) -> None:
    if Document.objects.filter(pk=run.subject_id).exists():  # not when the document was deleted meanwhile
        graphs.graph_mark_failed(graph_id=_graph_of(run).pk, error=message)


def generate_graph_retried(run: JobRun) -> None:
    ConceptGraph.objects.filter(pk=_graph_of(run).pk, status=ConceptGraph.Status.FAILED).update(
        status=ConceptGraph.Status.BUILDING, error="")


def _graph_of(run: JobRun) -> ConceptGraph:
    document = Document.objects.get(pk=run.subject_id)
    return graphs.graph_get_or_create(document=document, provider=run.payload["provider"], model=run.payload["model"])


def _provider(run: JobRun, name: str | None = None, model: str | None = None) -> CachedProvider:
    name, model = name or run.payload["provider"], model or run.payload["model"]
    return get_provider(name, model, limiter=ProviderLimiter(name, model),
                        max_output_tokens=policy_for(run.kind).max_output_tokens)


def explain_connection(run: JobRun, progress: ProgressCallback) -> dict:
    graph = ConceptGraph.objects.select_related("document").get(pk=run.subject_id)
    source = Concept.objects.get(pk=run.payload["source_id"], graph=graph)
    target = Concept.objects.get(pk=run.payload["target_id"], graph=graph)
    with usage_recorded(run, _provider(run, graph.provider, graph.model)) as provider:
        explanation, _ = explanations.explanation_create(
            graph=graph, source=source, target=target, provider=provider, progress=progress)
    return {"explanation_id": explanation.pk}


@contextmanager
def usage_recorded(run: JobRun, provider: CachedProvider) -> Iterator[CachedProvider]:
    """Adds the tokens `provider` spends to the run, whether the work succeeds or fails."""
    try:
        yield provider
    finally:
        record_usage(run, provider.spent)


def record_usage(run: JobRun, usage: Usage) -> None:
    """Adds provider tokens to the run's usage (over all its attempts; cached answers cost nothing)."""
    with transaction.atomic():
        row = JobRun.objects.select_for_update().filter(pk=run.pk).values_list("usage", flat=True).first()
        total = Usage.model_validate(row or {}) + usage
        JobRun.objects.filter(pk=run.pk).update(usage=total.model_dump())
    metrics.record_tokens(run.kind, prompt=usage.prompt_tokens, completion=usage.completion_tokens)


# --- ops: webhooks (issue 6) ---


def deliver_webhook(run: JobRun, progress: ProgressCallback) -> dict:
    delivery = WebhookDelivery.objects.get(pk=run.subject_id)
    progress("posting")
    delivery = webhooks.delivery_send(delivery=delivery, timeout_s=settings.WEBHOOK_TIMEOUT_S,
                                      allow_private=not settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES)
    return {"delivery_id": delivery.pk, "status": delivery.status, "response_status": delivery.response_status}


def deliver_webhook_failed(run: JobRun, message: str) -> None:
    webhooks.delivery_mark_failed(delivery_id=run.subject_id, error=message)


def deliver_webhook_retried(run: JobRun) -> None:
    webhooks.delivery_requeue(delivery_id=run.subject_id)


# --- create_quiz (issue 4) ---------------------------------------------------------------------


def create_quiz(run: JobRun, progress: ProgressCallback) -> dict:
    quiz = Quiz.objects.select_related("document").get(pk=run.subject_id)
    with usage_recorded(run, _provider(run)) as provider:
        stats = quizzes.quiz_generate(quiz=quiz, provider=provider, progress=progress)
    return {"quiz_id": quiz.pk, **stats}


def create_quiz_failed(run: JobRun, message: str) -> None:
    quizzes.quiz_mark_failed(quiz_id=run.subject_id, error=message)


def create_quiz_retried(run: JobRun) -> None:
    quizzes.quiz_requeue(quiz_id=run.subject_id)


def noop(run: JobRun, progress: ProgressCallback) -> None:
    return None


def nothing_to_undo(run: JobRun, message: str = "") -> None:
    return None


TASKS: dict[str, Task] = {
    "extract_document": Task(
        run=extract_document, on_failure=extract_document_failed, on_retry=extract_document_retried
    ),
    "extract_pages": Task(run=extract_pages, on_failure=extract_pages_failed, on_retry=nothing_to_undo),
    "generate_graph": Task(run=generate_graph, on_failure=generate_graph_failed, on_retry=generate_graph_retried),
    "explain_connection": Task(run=explain_connection, on_failure=nothing_to_undo, on_retry=nothing_to_undo),
    "create_quiz": Task(run=create_quiz, on_failure=create_quiz_failed, on_retry=create_quiz_retried),
    "noop": Task(run=noop, on_failure=nothing_to_undo, on_retry=nothing_to_undo),
    # ops (issue 6)
    "deliver_webhook": Task(run=deliver_webhook, on_failure=deliver_webhook_failed, on_retry=deliver_webhook_retried),
}
