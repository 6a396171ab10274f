"""Reads for graphs, concepts and explanations, scoped to the owner of their document."""

from __future__ import annotations

from studyapp.core.errors import NotFound, PermanentError
from studyapp.documents.models import Document
from studyapp.graphs.models import Concept, ConceptGraph, Explanation
from studyapp.graphs.services import current_graph


def current_graph_of(*, document: Document) -> ConceptGraph:
    """The graph the document shows now (the newest ready one). Raises NotFound if none is ready."""
    graph = current_graph(document)
    if graph is None:
        raise NotFound("This document has no concept graph yet; its jobs show how far it is.")
    return graph


def concept_pair_for_owner(*, owner, source_id: int, target_id: int) -> tuple[Concept, Concept]:
    """Two concepts of one graph of the owner's, ready to be explained.

    Raises:
        NotFound: either concept is unknown or not the owner's.
        PermanentError: the same concept twice, or concepts of different graphs.
    """
    concepts = {c.pk: c for c in Concept.objects.select_related("graph__document")
                .filter(pk__in=(source_id, target_id), graph__document__owner=owner)}
    if source_id not in concepts or target_id not in concepts:
        raise NotFound("No such concept.")
    if source_id == target_id:
        raise PermanentError("Pick two different concepts to explain how they connect.")
    source, target = concepts[source_id], concepts[target_id]
    if source.graph_id != target.graph_id:
        raise PermanentError("Both concepts must belong to the same graph.")
    return source, target


def explanation_for_owner(*, owner, explanation_id: int) -> Explanation:
    explanation = (Explanation.objects.select_related("source", "target")
                   .filter(pk=explanation_id, graph__document__owner=owner).first())
    if explanation is None:
        raise NotFound("No such explanation.")
    return explanation
