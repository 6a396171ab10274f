"""Reads for runs: what interfaces show."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from jobs.fanout import PART_KIND
from jobs.models import JobRun
from studyapp.core.errors import NotFound


# Runs that are parts of another run (jobs.fanout: page ranges of a big document's extraction). Their
# parent's row carries the progress of them all, so the lists people watch show the parent alone;
# the admin's JobRun list (operators) still shows every part.
PART_KINDS = (PART_KIND,)


def runs_for_subject(subject: models.Model) -> QuerySet[JobRun]:
    return JobRun.objects.filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk
    ).order_by("-created_at")


def latest_run(subject: models.Model, *, kind: str | None = None) -> JobRun | None:
    runs = runs_for_subject(subject)
    if kind:
        runs = runs.filter(kind=kind)
    return runs.first()


def current_run(subject: models.Model) -> JobRun | None:
    """What a subject is doing now: its running run, else its oldest unfinished one (the next in
    its pipeline), else its latest run."""
    runs = runs_for_subject(subject).exclude(kind__in=PART_KINDS)
    return (runs.filter(status=JobRun.Status.RUNNING).first()
            or runs.filter(status__in=JobRun.UNFINISHED).order_by("created_at").first()
            or runs.first())


def runs_for_owner(owner) -> QuerySet[JobRun]:
    """The owner's runs as the web UI's and the API's job lists show them (parts left out)."""
    return JobRun.objects.filter(owner=owner).exclude(kind__in=PART_KINDS).order_by("-created_at")


def usage_total(runs: QuerySet[JobRun]) -> dict[str, int]:
    """Provider tokens summed over runs (the usage JSON of each run)."""
    total = {"prompt_tokens": 0, "completion_tokens": 0}
    for usage in runs.exclude(usage={}).values_list("usage", flat=True):
        for key in total:
            total[key] += int((usage or {}).get(key, 0))
    return total


def usage_for_owner(owner) -> dict[str, int]:
    return usage_total(JobRun.objects.filter(owner=owner))


def usage_for_document(document: models.Model) -> dict[str, int]:
    """Tokens of the document's runs, of the runs on its graphs (explanations) and on its quizzes."""
    from studyapp.graphs.models import ConceptGraph

    graph_runs = JobRun.objects.filter(subject_type=ContentType.objects.get_for_model(ConceptGraph),
                                       subject_id__in=document.graphs.values_list("pk", flat=True))
    return usage_total(runs_for_subject(document) | graph_runs | _quiz_runs(document))


# --- the document's pipeline, quizzes included (issue 4) ------------------------------------------

PIPELINE_KINDS = ("extract_document", "generate_graph", "create_quiz")


def _quiz_runs(document: models.Model) -> QuerySet[JobRun]:
    from studyapp.quizzes.models import Quiz

    return JobRun.objects.filter(subject_type=ContentType.objects.get_for_model(Quiz),
                                 subject_id__in=Quiz.objects.filter(document_id=document.pk).values_list("pk", flat=True))


def pipeline_runs(document: models.Model) -> list[JobRun]:
    """The latest run of each step of the document's pipeline, in order: extract -> graph -> quiz
    (a re-run replaces an earlier failure; quiz runs are those of the document's quizzes)."""
    runs = (runs_for_subject(document) | _quiz_runs(document)).filter(kind__in=PIPELINE_KINDS)
    latest: dict[str, JobRun] = {}
    for run in runs.order_by("created_at"):
        latest[run.kind] = run
    return [latest[kind] for kind in PIPELINE_KINDS if kind in latest]


# --- REST API (issue 5) ----------------------------------------------------------------------

def run_for_owner(*, owner, run_id) -> JobRun:
    """Raises NotFound for an unknown id and for another student's run alike."""
    try:
        return JobRun.objects.get(owner=owner, pk=run_id)
    except JobRun.DoesNotExist:
        raise NotFound("No such job.") from None


def runs_for_document(document: models.Model) -> QuerySet[JobRun]:
    """The document's own runs and those on its graphs (explanations) and quizzes, newest first."""
    from studyapp.graphs.models import ConceptGraph

    graph_runs = JobRun.objects.filter(subject_type=ContentType.objects.get_for_model(ConceptGraph),
                                       subject_id__in=document.graphs.values_list("pk", flat=True))
    return (runs_for_subject(document) | graph_runs | _quiz_runs(document)).order_by("-created_at")
