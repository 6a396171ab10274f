"""Explaining how two concepts of a graph connect, citing pages."""

from __future__ import annotations

import math

import networkx as nx

from studyapp.ai.language import check_language
from studyapp.ai.providers.base import Provider
from studyapp.ai.schemas import Evidence, ExplainInput, PathStep, RelationType, Usage
from studyapp.core.errors import PermanentError
from studyapp.core.progress import ProgressCallback, no_progress
from studyapp.documents.services import document_language
from studyapp.graphs.evidence import PageIndex
from studyapp.graphs.models import Concept, ConceptGraph, Explanation, Relation

MAX_PATH = 4
TYPED_STEP, LOOSE_STEP = 1.0, 1.5  # a related_to step costs half again a typed one
HUB_COST = 0.5  # per doubling of an intermediate concept's relations


def explanation_find(*, graph: ConceptGraph, source: Concept, target: Concept) -> Explanation | None:
    return Explanation.objects.filter(graph=graph, source=source, target=target).first()


def explanation_create(*, graph: ConceptGraph, source: Concept, target: Concept, provider: Provider,
                       progress: ProgressCallback = no_progress) -> tuple[Explanation, Usage]:
    if source.pk == target.pk:
        raise PermanentError("Pick two different concepts to explain how they connect.")
    if source.graph_id != graph.pk or target.graph_id != graph.pk:
        raise PermanentError("Both concepts must belong to this graph.")
    progress("gathering evidence")
    from studyapp.graphs.services import document_pages

    language = document_language(graph.document)
    check_language(provider.languages, language, "Explanations are written for documents")
    index = PageIndex(document_pages(graph.document))
    request = ExplainInput(source=source.name, target=target.name, path=relation_path(graph, source, target),
                           passages=_passages(index, source, target), language=language)
    progress("explaining")
    call = provider.explain_connection(request)
    citations = [c.model_dump() for c in call.output.citations if c.page in index.labels]
    progress("saving")
    explanation, _ = Explanation.objects.update_or_create(
        graph=graph, source=source, target=target,
        defaults={"text": call.output.text, "citations": citations, "provider": provider.name, "model": provider.model},
    )
    return explanation, call.usage


def _passages(index: PageIndex, source: Concept, target: Concept) -> list[Evidence]:
    source_names = {source.name, *source.aliases}
    target_names = {target.name, *target.aliases}
    together = index.mentions(source_names, together_with=target_names, limit=4)
    if together:
        return together
    return index.mentions(source_names, limit=2) + index.mentions(target_names, limit=2)


def relation_path(graph: ConceptGraph, source: Concept, target: Concept) -> list[PathStep]:
    """The clearest chain of relations between the two concepts (either direction), if any.

    Not merely the shortest: a typed step ("is a kind of", "is part of") costs less than a bare
    `related_to`, and passing through a hub (a concept related to everything, like "passages")
    costs more the more it is related to, since a chain through it explains nothing.
    """
    network = nx.Graph()
    relations: dict[frozenset, Relation] = {}
    for relation in Relation.objects.filter(graph=graph).select_related("source", "target"):
        pair = frozenset((relation.source_id, relation.target_id))
        known = relations.get(pair)
        if known is None or (known.type == RelationType.RELATED_TO and relation.type != RelationType.RELATED_TO):
            relations[pair] = relation
        network.add_edge(relation.source_id, relation.target_id)
    ends = {source.pk, target.pk}

    def cost(a: int, b: int, _data: dict) -> float:
        typed = relations[frozenset((a, b))].type != RelationType.RELATED_TO
        hubs = sum(HUB_COST * math.log2(network.degree(n)) for n in (a, b) if n not in ends)
        return (TYPED_STEP if typed else LOOSE_STEP) + hubs

    try:
        nodes = nx.shortest_path(network, source.pk, target.pk, weight=cost)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return []
    if len(nodes) - 1 > MAX_PATH:
        return []
    steps = []
    for a, b in zip(nodes, nodes[1:]):
        rel = relations[frozenset((a, b))]
        steps.append(PathStep(source=rel.source.name, type=RelationType(rel.type), target=rel.target.name,
                              page=rel.page, quote=rel.quote))
    return steps
