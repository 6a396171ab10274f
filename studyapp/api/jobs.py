"""Jobs: a student's background runs with live progress; cancel and retry.

Progress is read as the admin reads it (jobs.live.live_progress): job.meta in Redis for a running
run, the JobRun row otherwise. Unknown ids and other students' ids are both 404.
"""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from ninja import FilterSchema, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import Field, model_validator

from jobs.control import run_cancel, run_retry
from jobs.live import live_progress
from jobs.models import JobRun
from jobs.policies import POLICIES
from jobs.selectors import run_for_owner, runs_for_owner
from studyapp.api.errors import read_errors, write_errors
from studyapp.api.pagination import Pages
from studyapp.api.schemas import choices

router = Router(tags=["jobs"])

# What the API calls a run's subject; the model name for any kind added later (e.g. "quiz").
_SUBJECT_NAMES = {"conceptgraph": "graph"}


class SubjectOut(Schema):
    type: str = Field(description="document, graph, ...")
    id: int


class UsageOut(Schema):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class JobOut(Schema):
    id: UUID
    kind: str = Field(description="extract_document, generate_graph, explain_connection, ...")
    status: choices(JobRun.Status)
    finished: bool
    stage: str = Field(description="what it is doing now, e.g. 'extracting page 41/352'")
    percent: float
    message: str
    done: int | None = Field(description="steps done in this stage, when it counts steps")
    total: int | None
    eta_s: float | None = Field(description="seconds left at this stage's pace so far")
    attempts: int
    max_attempts: int
    error: str = Field(description="why it failed, in words for the student")
    subject: SubjectOut
    upstream_id: UUID | None = Field(description="the job this one waits for")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None = Field(description="when a waiting job tries again")
    usage: UsageOut

    @model_validator(mode="wrap")
    @classmethod
    def _from_run(cls, data: Any, handler):
        # Handlers (and nested schemas) hand over JobRun objects; their live state is computed here,
        # after pagination has sliced the queryset.
        return handler(cls.of(data) if isinstance(data, JobRun) else data)

    @staticmethod
    def of(run: JobRun) -> dict:
        subject_model = ContentType.objects.get_for_id(run.subject_type_id).model
        return {
            **live_progress(run),
            "subject": {"type": _SUBJECT_NAMES.get(subject_model, subject_model), "id": run.subject_id},
            "upstream_id": run.upstream_id,
            "created_at": run.created_at,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "next_attempt_at": run.next_attempt_at,
            "usage": run.usage or {},
        }


class JobFilter(FilterSchema):
    status: choices(JobRun.Status) | None = None
    # The kinds a student's runs can have, so a misspelt kind is a 400 rather than an empty page.
    kind: Literal[tuple(sorted(POLICIES))] | None = None  # type: ignore[valid-type]


@router.get("/{job_id}", response={200: JobOut, **read_errors(404)}, summary="A job's status and progress")
def job_get(request, job_id: UUID):
    return run_for_owner(owner=request.auth, run_id=job_id)


@router.get("", response={200: list[JobOut], **read_errors()}, summary="My jobs, newest first")
@paginate(Pages)
def job_list(request, filters: Query[JobFilter]):
    return filters.filter(runs_for_owner(request.auth))


@router.post("/{job_id}/cancel", response={200: JobOut, **write_errors(404, 409)}, summary="Cancel a job")
def job_cancel(request, job_id: UUID):
    """A queued or waiting job ends cancelled at once; a running one stops within moments. Jobs waiting for
    it are cancelled too. 409 if it has already finished."""
    return run_cancel(run=run_for_owner(owner=request.auth, run_id=job_id))


@router.post("/{job_id}/retry", response={202: JobOut, **write_errors(404, 409)}, summary="Retry a job")
def job_retry(request, job_id: UUID):
    """Put a failed or cancelled job back on its queue with a fresh attempt budget (and the jobs that ended
    because of it). 409 for any other job."""
    return Status(202, run_retry(run=run_for_owner(owner=request.auth, run_id=job_id)))
