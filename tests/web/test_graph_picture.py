"""The graph picture's layout: every concept inside the picture, no two labels on top of each other,
the same picture every time."""

from __future__ import annotations

import pytest

from studyapp.web.graph_picture import WIDTH, _bottom, _box_w, _top, graph_picture
from tests.conftest import pdf_path
from tests.web.helpers import processed_document

pytestmark = pytest.mark.django_db(transaction=True)


def overlapping(nodes) -> list[tuple[str, str]]:
    pairs = []
    for i, a in enumerate(nodes):
        for b in nodes[i + 1:]:
            apart_x = abs(a.x - b.x) >= (_box_w(a) + _box_w(b)) / 2
            apart_y = min(_bottom(a), _bottom(b)) <= max(_top(a), _top(b))
            if not (apart_x or apart_y):
                pairs.append((a.name, b.name))
    return pairs


def test_a_small_graph_s_concepts_and_labels_fit_without_overlapping(alice):
    """The 15 concepts of the sample: inside the width and height, no label box over another."""
    _document, graph = processed_document(alice)
    picture = graph_picture(graph)
    assert len(picture.nodes) == 15 and picture.hidden == 0
    for node in picture.nodes:
        assert _box_w(node) / 2 <= node.x <= WIDTH - _box_w(node) / 2, node.name
        assert 0 <= _top(node) and _bottom(node) <= picture.height, node.name
    assert overlapping(picture.nodes) == []
    assert {e.relation.type for e in picture.edges} <= {t for t, *_ in picture.legend}


@pytest.mark.slow
def test_a_big_graph_shows_its_40_most_important_concepts_readably(alice):
    """GeoTopo's 60-concept graph: 40 drawn (the rest in the list), still without overlaps, and the
    same layout when drawn again."""
    _document, graph = processed_document(alice, pdf_path("GeoTopo-komprimiert.pdf"))
    picture = graph_picture(graph)
    assert len(picture.nodes) == 40 and picture.hidden == graph.concepts.count() - 40
    shown = {n.id for n in picture.nodes}
    assert shown == set(graph.concepts.order_by("-importance", "name").values_list("pk", flat=True)[:40])
    assert overlapping(picture.nodes) == []
    again = graph_picture(graph)
    assert [(n.id, n.x, n.y) for n in again.nodes] == [(n.id, n.x, n.y) for n in picture.nodes]
