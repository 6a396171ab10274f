"""Explanations of how two concepts of a graph connect, citing pages."""

from datetime import datetime
from typing import Literal

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from jobs import pipelines
from studyapp.api.errors import read_errors, write_errors
from studyapp.api.jobs import JobOut
from studyapp.api.schemas import MAX_ID, InputSchema, JsonInt, ObjectId
from studyapp.graphs.models import Explanation
from studyapp.graphs.selectors import concept_pair_for_owner, explanation_for_owner

router = Router(tags=["explanations"])


class ExplainIn(InputSchema):
    source_id: JsonInt = Field(ge=1, le=MAX_ID, description="a concept id (from the graph)")
    target_id: JsonInt = Field(ge=1, le=MAX_ID, description="another concept of the same graph")


class ConceptRefOut(Schema):
    id: int
    name: str


class CitationOut(Schema):
    page: str
    quote: str = ""


class ExplanationOut(Schema):
    id: int
    graph_id: int
    source: ConceptRefOut
    target: ConceptRefOut
    text: str
    citations: list[CitationOut]
    provider: str
    model: str
    created_at: datetime


class ExplanationRequestOut(Schema):
    status: Literal["ready", "pending"]
    explanation: ExplanationOut | None = Field(description="when ready")
    job: JobOut | None = Field(description="when pending: the job writing it")


@router.post("", response={200: ExplanationRequestOut, 202: ExplanationRequestOut, **write_errors(404)},
             summary="Explain how two concepts connect")
def explanation_request(request, body: ExplainIn):
    """200 with the explanation when it exists; else 202 with the (high-priority) job writing it. Ask again once
    the job has succeeded (or fetch it by id) to get the text; asking while it runs returns the same job."""
    source, target = concept_pair_for_owner(owner=request.auth, source_id=body.source_id, target_id=body.target_id)
    result = pipelines.explanation_request(graph=source.graph, source=source, target=target, owner=request.auth)
    if isinstance(result, Explanation):
        return Status(200, {"status": "ready", "explanation": result, "job": None})
    return Status(202, {"status": "pending", "explanation": None, "job": result})


@router.get("/{explanation_id}", response={200: ExplanationOut, **read_errors(404)}, summary="An explanation")
def explanation_get(request, explanation_id: ObjectId):
    return explanation_for_owner(owner=request.auth, explanation_id=explanation_id)
