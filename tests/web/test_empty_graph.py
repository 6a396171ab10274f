"""A document whose graph has no concepts (mostly images) shows why, instead of a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from studyapp.documents.models import Document, DocumentPage
from studyapp.graphs.models import ConceptGraph
from studyapp.web.graph_picture import graph_picture
from tests.web.helpers import Html

pytestmark = pytest.mark.django_db


@pytest.fixture
def image_document(alice):
    document = Document.objects.create(owner=alice, title="Pictures", file="documents/pictures.pdf", sha256="a" * 64,
                                       size=1000, page_count=3, status=Document.Status.READY)
    DocumentPage.objects.create(document=document, index=0, label="1", text="Figure 1", source="text")
    for index in (1, 2):
        DocumentPage.objects.create(document=document, index=index, label=str(index + 1), text="", source="empty")
    ConceptGraph.objects.create(document=document, provider="local", model="local-1", content_sha256="a" * 64,
                                status=ConceptGraph.Status.READY, finished_at=timezone.now())
    return document


@pytest.mark.parametrize("view", ["web:document", "web:graph"])
def test_a_graph_without_concepts_says_why(client, alice, image_document, view):
    client.force_login(alice)
    response = client.get(reverse(view, args=[image_document.pk]))
    assert response.status_code == 200
    text = Html(response.content.decode()).text
    assert "No concepts were found in this document: it has 8 characters of text on 1 of its 3 pages" in text


def test_the_picture_of_an_empty_graph_is_empty_not_an_error(image_document):
    picture = graph_picture(image_document.graphs.get())
    assert (picture.nodes, picture.edges, picture.hidden) == ([], [], 0) and picture.height > 0
