"""Module-scoped material for quiz tests: a document read and its graph built once per module.

Built with the domain services directly (no Redis), committed outside the per-test transactions,
and deleted at the end of the module.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from studyapp.ai.providers import get_provider
from studyapp.documents.extraction import ExtractionOptions
from studyapp.documents.services import document_create, document_extract
from studyapp.graphs.services import graph_build, graph_get_or_create

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "cell-biology-notes.pdf"


def build_graph(owner, path: Path):
    """A ready document with its local graph."""
    with path.open("rb") as fh:
        document, _ = document_create(owner=owner, upload=fh, filename=path.name)
    document_extract(document=document, options=ExtractionOptions(ocr=False))
    graph = graph_get_or_create(document=document, provider="local", model="local-1")
    graph_build(graph=graph, provider=get_provider("local", "local-1"))
    document.refresh_from_db()
    graph.refresh_from_db()
    return document, graph


@pytest.fixture(scope="module")
def cell_graph(django_db_setup, django_db_blocker, tmp_path_factory):
    """The sample cell-biology notes (3 pages) with their graph, owned by 'carol'."""
    from django.contrib.auth import get_user_model

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        owner = get_user_model().objects.create_user("carol", password="carol-password-1")
        document, graph = build_graph(owner, SAMPLE)
        yield document, graph
        owner.delete()
