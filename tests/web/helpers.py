"""Building what the web tests look at: a student's processed document with its graph, through the
real pipeline (upload -> extraction -> graph, run in-process by a SimpleWorker on the test Redis)."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

from jobs.models import JobRun
from jobs.pipelines import document_upload, explanation_request
from studyapp.documents.models import Document
from studyapp.graphs.models import Concept, ConceptGraph, Explanation
from studyapp.graphs.services import current_graph
from tests.jobs.helpers import drain

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE = REPO / "samples" / "cell-biology-notes.pdf"  # 3 pages, a 15-concept graph with the local provider


def processed_document(owner, path: Path = SAMPLE, *, title: str = "") -> tuple[Document, ConceptGraph]:
    with path.open("rb") as fh:
        document, _run = document_upload(owner=owner, upload=fh, filename=path.name, title=title)
    drain()
    document.refresh_from_db()
    graph = current_graph(document)
    assert document.status == "ready" and graph is not None, (document.status, document.error)
    return document, graph


def related_pair(graph: ConceptGraph) -> tuple[Concept, Concept]:
    relation = graph.relations.select_related("source", "target").first()
    return relation.source, relation.target


def explained(graph: ConceptGraph, owner) -> Explanation:
    source, target = related_pair(graph)
    outcome = explanation_request(graph=graph, source=source, target=target, owner=owner)
    drain()
    if isinstance(outcome, Explanation):
        return outcome
    return Explanation.objects.get(graph=graph, source=source, target=target)


def upload_bytes(owner, data: bytes, name: str = "notes.pdf") -> tuple[Document, JobRun]:
    return document_upload(owner=owner, upload=io.BytesIO(data), filename=name)


class Html(HTMLParser):
    """The parts of a page the tests read: elements by id, attributes of elements, visible text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text_parts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        if data.strip():
            self.text_parts.append(data.strip())

    @property
    def text(self) -> str:
        return " ".join(self.text_parts)

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, str]]:
        found = []
        for name, element in self.elements:
            if tag and name != tag:
                continue
            if all(element.get(key.rstrip("_").replace("_", "-")) == value for key, value in attrs.items()):
                found.append(element)
        return found

    def with_attr(self, attr: str) -> list[dict[str, str]]:
        return [element for _, element in self.elements if attr in element]
