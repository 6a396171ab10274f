"""Concept graphs: a document's current graph (concepts, relations with their evidence); rebuild it."""

from datetime import datetime
from typing import Literal

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from jobs import pipelines
from studyapp.ai.schemas import RelationType
from studyapp.api.errors import read_errors, write_errors
from studyapp.api.jobs import JobOut
from studyapp.api.schemas import InputSchema, ObjectId, choices
from studyapp.documents.selectors import document_for_owner
from studyapp.graphs.models import ConceptGraph, Relation
from studyapp.graphs.selectors import current_graph_of

router = Router(tags=["graphs"])


class ConceptOut(Schema):
    id: int
    name: str
    aliases: list[str]
    description: str
    importance: float
    pages: list[str] = Field(description="labels of the pages that mention it")


class EvidenceOut(Schema):
    page: str = Field(description="the page label")
    quote: str = Field(description="verbatim from that page")


class RelationOut(Schema):
    id: int
    source_id: int
    target_id: int
    type: RelationType
    description: str
    weight: float
    evidence: EvidenceOut

    @staticmethod
    def resolve_evidence(relation: Relation) -> dict:
        return {"page": relation.page, "quote": relation.quote}


class GraphOut(Schema):
    id: int
    document_id: int
    provider: str
    model: str
    status: choices(ConceptGraph.Status)
    stats: dict = Field(description="counts (concepts, relations, chunks...) and provider tokens")
    created_at: datetime
    finished_at: datetime | None
    concepts: list[ConceptOut]
    relations: list[RelationOut]

    @staticmethod
    def resolve_concepts(graph: ConceptGraph) -> list:
        return list(graph.concepts.all())

    @staticmethod
    def resolve_relations(graph: ConceptGraph) -> list:
        return list(graph.relations.all())


class RegenerateIn(InputSchema):
    provider: Literal["local", "openai"] | None = Field(None, description="default: the server's AI_PROVIDER")
    model: str | None = Field(None, min_length=1, max_length=128, description="default: the provider's default")


@router.get("/{document_id}/graph", response={200: GraphOut, **read_errors(404)}, summary="A document's concept graph")
def graph_get(request, document_id: ObjectId):
    """The newest ready graph. 404 while none is ready yet (the document's jobs show the build)."""
    return current_graph_of(document=document_for_owner(owner=request.auth, document_id=document_id))


@router.post("/{document_id}/graph/regenerate", response={202: JobOut, **write_errors(404, 409)},
             summary="Rebuild a document's graph")
def graph_regenerate(request, document_id: ObjectId, body: RegenerateIn):
    """Build the graph again, e.g. with another provider or model; the current graph serves until the new one is
    ready. Returns the job; asking again while it runs returns the same job. Unchanged input costs no tokens."""
    document = document_for_owner(owner=request.auth, document_id=document_id)
    return Status(202, pipelines.graph_regenerate(document=document, owner=request.auth, provider=body.provider,
                                        model=body.model))
