"""The job functions, one per kind. Thin on purpose: load the subject, call a domain service with
the progress reporter, return a small summary. Retries, errors and progress rows are the runner's
business (jobs/runner.py); how each kind is queued and retried is in jobs/policies.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from django.conf import settings

from jobs.models import JobRun
from jobs.policies import policy_for
from studyapp.core.progress import ProgressCallback
from studyapp.documents import services as documents
from studyapp.documents.extraction import ExtractionOptions
from studyapp.documents.models import Document


@dataclass(frozen=True)
class Task:
    run: Callable[[JobRun, ProgressCallback], Any]
    # Called once when the run ends failed or cancelled, with the message for the student.
    on_failure: Callable[[JobRun, str], None]
    # Called when a failed or cancelled run is put back on its queue.
    on_retry: Callable[[JobRun], None]


def extract_document(run: JobRun, progress: ProgressCallback) -> dict:
    policy = policy_for(run.kind)
    options = ExtractionOptions(
        page_cap=policy.page_cap,
        time_budget_s=policy.time_budget_s,
        ocr=settings.OCR_ENABLED,
        ocr_languages=settings.OCR_LANGUAGES,
    )
    document = Document.objects.get(pk=run.subject_id)
    return documents.document_extract(document=document, options=options, progress=progress)


def extract_document_failed(run: JobRun, message: str) -> None:
    documents.document_mark_failed(document_id=run.subject_id, error=message)


def extract_document_retried(run: JobRun) -> None:
    documents.document_requeue(document_id=run.subject_id)


def noop(run: JobRun, progress: ProgressCallback) -> None:
    return None


def nothing_to_undo(run: JobRun, message: str = "") -> None:
    return None


TASKS: dict[str, Task] = {
    "extract_document": Task(
        run=extract_document, on_failure=extract_document_failed, on_retry=extract_document_retried
    ),
    "noop": Task(run=noop, on_failure=nothing_to_undo, on_retry=nothing_to_undo),
}
