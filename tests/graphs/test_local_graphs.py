"""Graphs built offline by the `local` provider on real documents: evidence that holds up."""

from __future__ import annotations

import io

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.graphs.evidence import PageIndex
from studyapp.graphs.services import current_graph, document_pages
from tests.conftest import pdf_path
from tests.fixtures.make_pdfs import long_english_pdf
from tests.jobs.helpers import drain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def build(owner, data: bytes, name: str):
    document, _ = document_upload(owner=owner, upload=io.BytesIO(data), filename=name)
    drain()
    run = JobRun.objects.get(kind="generate_graph", subject_id=document.pk)
    assert run.status == "succeeded", (run.stage, run.error)
    document.refresh_from_db()
    return document, current_graph(document)


def assert_evidence_holds(document, graph) -> None:
    index = PageIndex(document_pages(document))
    concepts = list(graph.concepts.all())
    assert len(concepts) >= 20
    for concept in concepts:
        assert concept.pages, concept.name
        assert set(concept.pages) <= index.labels
        assert concept.description
    relations = list(graph.relations.select_related("source", "target"))
    assert len(relations) >= 10
    for relation in relations:
        assert index.quote_on_page(relation.quote, relation.page), (relation.page, relation.quote)
    assert {r.type for r in relations} - {"related_to"}, "some relations are typed by what the sentence says"


def test_the_german_lecture_notes_give_a_graph_whose_evidence_is_on_its_pages(alice, settings):
    """GeoTopo (German, page labels i-iii, 1-114): concepts have pages, quotes are on their page."""
    settings.AI_PROVIDER = "local"
    document, graph = build(alice, pdf_path("GeoTopo-komprimiert.pdf").read_bytes(), "geotopo.pdf")
    assert_evidence_holds(document, graph)
    names = {c.key for c in graph.concepts.all()}
    assert names & {"topologie", "topologischer raum", "metrik", "metrischer raum", "geometrie"}, sorted(names)[:30]


def test_a_long_english_document_gives_a_graph_whose_evidence_is_on_its_pages(alice, settings):
    """40 pages of the Python language reference: the same guarantees in English."""
    settings.AI_PROVIDER = "local"
    document, graph = build(alice, long_english_pdf(), "python-reference.pdf")
    assert document.page_count == 40
    assert_evidence_holds(document, graph)
    names = {c.key for c in graph.concepts.all()}
    assert names & {"exception", "class", "function", "name", "code block", "namespace"}, sorted(names)[:30]
