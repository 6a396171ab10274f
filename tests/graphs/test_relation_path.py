"""The chain of relations an explanation follows: typed steps over bare co-mentions, and never
through a hub that is related to everything."""

from __future__ import annotations

import pytest

from studyapp.documents.models import Document
from studyapp.graphs.explanations import relation_path
from studyapp.graphs.models import Concept, ConceptGraph, Relation

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(django_user_model):
    owner = django_user_model.objects.create_user("ada", password="x")
    document = Document.objects.create(owner=owner, title="t", sha256="0" * 64, size=1)
    return ConceptGraph.objects.create(document=document, provider="local", model="local-1", content_sha256="0" * 64)


def concepts(graph, *names):
    return {n: Concept.objects.create(graph=graph, name=n, key=n) for n in names}


def relate(graph, source, target, type_="related_to"):
    Relation.objects.create(graph=graph, source=source, target=target, type=type_, page="1",
                            quote=f"{source.name} and {target.name}.")


def test_the_path_avoids_a_hub_and_prefers_typed_steps(graph):
    c = concepts(graph, "trace", "guard", "side exit", "passages", *[f"other {i}" for i in range(12)])
    # Two steps through a hub that is related to everything ...
    relate(graph, c["trace"], c["passages"])
    relate(graph, c["passages"], c["side exit"])
    for i in range(12):
        relate(graph, c["passages"], c[f"other {i}"])
    # ... or two typed steps through a concept that is only related to these two.
    relate(graph, c["guard"], c["trace"], "part_of")
    relate(graph, c["side exit"], c["guard"], "causes")
    steps = relation_path(graph, c["trace"], c["side exit"])
    assert [(s.source, s.type.value, s.target) for s in steps] == [
        ("guard", "part_of", "trace"), ("side exit", "causes", "guard")]


def test_a_pair_related_both_ways_is_explained_by_its_typed_relation(graph):
    c = concepts(graph, "mitosis", "cell division")
    relate(graph, c["mitosis"], c["cell division"])
    relate(graph, c["mitosis"], c["cell division"], "is_a")
    assert [s.type.value for s in relation_path(graph, c["mitosis"], c["cell division"])] == ["is_a"]
