"""Reads for runs: what interfaces show."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from jobs.models import JobRun


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
    """The unfinished run of a subject if there is one, else its latest run."""
    runs = runs_for_subject(subject)
    return runs.filter(status__in=JobRun.UNFINISHED).first() or runs.first()


def runs_for_owner(owner) -> QuerySet[JobRun]:
    return JobRun.objects.filter(owner=owner).order_by("-created_at")
