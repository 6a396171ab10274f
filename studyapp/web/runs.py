"""What the web UI shows of background runs: a student's pipeline per document, job rows, errors.

Reads go through jobs.selectors and jobs.live (the same live state the admin shows: the row plus
job.meta); this module only shapes them for templates. Every query here is scoped to one owner:
a run of another student is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet

from jobs.live import live_progress
from jobs.models import JobRun
from jobs.selectors import PART_KINDS, runs_for_owner
from studyapp.documents.models import Document

# Known kinds in the order a document's pipeline runs them; an unknown kind (a new job added
# later) is still shown, after these, labelled from its name.
PIPELINE_ORDER = ("extract_document", "generate_graph", "create_quiz")
KIND_LABELS = {
    "extract_document": "Text extraction",
    "generate_graph": "Concept graph",
    "create_quiz": "Quiz",
    "explain_connection": "Explanation",
}
# Runs a student starts from a page and watches there (not part of the upload's pipeline).
INTERACTIVE_KINDS = ("explain_connection",)
INTERNAL_ERROR = "Processing failed because of an internal error; it has been logged."


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def student_error(run: JobRun) -> str:
    """The run's error in words for the student.

    The runner keeps a bug's details ("unexpected error: KeyError: ...", see jobs.runner._describe)
    on the run for operators; a student sees that something went wrong on our side, not the trace.
    """
    if not run.error:
        return ""
    if "unexpected error:" in run.error:
        return INTERNAL_ERROR
    return run.error


def eta_text(seconds: float | None) -> str:
    if not seconds or seconds < 1:
        return ""
    if seconds < 90:
        return f"about {int(round(seconds))} s left"
    minutes = int(round(seconds / 60))
    return f"about {minutes} min left"


@dataclass(frozen=True)
class RunView:
    """One run as a progress bar with its words and the actions the student may take."""

    run: JobRun
    state: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.run.pk)

    @property
    def kind(self) -> str:
        return self.run.kind

    @property
    def label(self) -> str:
        return kind_label(self.run.kind)

    @property
    def status(self) -> str:
        return self.state["status"]

    @property
    def finished(self) -> bool:
        return bool(self.state["finished"])

    @property
    def percent(self) -> float:
        return self.state["percent"]

    @property
    def stage(self) -> str:
        return self.state["stage"] or self.status

    @property
    def eta(self) -> str:
        return "" if self.finished else eta_text(self.state.get("eta_s"))

    @property
    def error(self) -> str:
        return student_error(self.run)

    @property
    def can_cancel(self) -> bool:
        return self.run.status in JobRun.UNFINISHED

    @property
    def can_retry(self) -> bool:
        # A run that failed because its upstream failed would fail again at once: retrying the
        # upstream retries it too (jobs.control.retry_run), so that is the button to offer.
        if self.run.status not in (JobRun.Status.FAILED, JobRun.Status.CANCELLED):
            return False
        upstream = self.run.upstream
        return upstream is None or upstream.status not in (JobRun.Status.FAILED, JobRun.Status.CANCELLED)

    @property
    def document(self) -> Document | None:
        return subject_document(self.run)

    @property
    def can_discard(self) -> bool:
        """A dead letter: failed and not yet set aside (jobs.control.discard_runs)."""
        return self.run.is_dead_letter

    @property
    def discarded(self) -> bool:
        return self.run.status == JobRun.Status.FAILED and self.run.discarded_at is not None


def run_view(run: JobRun) -> RunView:
    return RunView(run=run, state=live_progress(run))


def subject_document(run: JobRun) -> Document | None:
    """The document a run works for: its subject, or the subject's document (a graph, a quiz)."""
    subject = run.subject
    if isinstance(subject, Document):
        return subject
    return getattr(subject, "document", None)


def document_runs(document: Document) -> QuerySet[JobRun]:
    """Every run on the document or on something of the document (its graphs, and whatever a later
    kind takes as its subject, e.g. a quiz): any subject model with a `document` foreign key."""
    match = Q(subject_type=ContentType.objects.get_for_model(Document), subject_id=document.pk)
    for content_type in _subject_types(document.owner):
        model = content_type.model_class()
        if model is not None and _belongs_to_document(model):
            match |= Q(subject_type=content_type,
                       subject_id__in=model._default_manager.filter(document=document).values("pk"))
    return JobRun.objects.filter(match, owner=document.owner).order_by("-created_at")


def _subject_types(owner) -> list[ContentType]:
    ids = JobRun.objects.filter(owner=owner).values_list("subject_type", flat=True).distinct()
    return [ContentType.objects.get_for_id(pk) for pk in ids]


def _belongs_to_document(model) -> bool:
    try:
        field = model._meta.get_field("document")
    except FieldDoesNotExist:  # not a thing of a document
        return False
    return getattr(field, "related_model", None) is Document


def pipeline(document: Document) -> list[RunView]:
    """The latest run of each pipeline kind for the document, in pipeline order."""
    latest: dict[str, JobRun] = {}
    # Parts of a big document's extraction are in its extraction's bar (jobs.fanout).
    for run in document_runs(document).exclude(kind__in=INTERACTIVE_KINDS + PART_KINDS):
        latest.setdefault(run.kind, run)  # newest first, so the first seen is the latest
    order = {kind: i for i, kind in enumerate(PIPELINE_ORDER)}
    runs = sorted(latest.values(), key=lambda r: (order.get(r.kind, len(order)), r.created_at))
    return [run_view(run) for run in runs]


JOB_FILTERS = {
    "all": "All",
    "active": "Running and queued",
    "failed": "Failed",
}


def student_runs(owner, job_filter: str) -> QuerySet[JobRun]:
    runs = runs_for_owner(owner).select_related("subject_type")
    if job_filter == "active":
        return runs.filter(status__in=JobRun.UNFINISHED)
    if job_filter == "failed":  # the dead-letter view: a discarded run leaves it, and stays in "all"
        return runs.filter(status=JobRun.Status.FAILED, discarded_at__isnull=True)
    return runs
