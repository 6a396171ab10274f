"""The concept graph as a picture: positions computed here with networkx, drawn as inline SVG.

The layout is deterministic (a fixed seed), so the same graph always looks the same. After the
spring layout, labels that would overlap are pushed apart: a graph is only readable if its words
are. Edges are typed by colour *and* dash pattern (not colour alone) with a legend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import networkx as nx

from studyapp.graphs.models import Concept, ConceptGraph, Relation

WIDTH = 880
MARGIN = 40
MIN_HEIGHT = 320
CELL_W, CELL_H = 150.0, 64.0  # room for one concept and its label
NODE_AREA = CELL_W * CELL_H * 1.2
LABEL_SIZE = 14  # px in the picture's own units; the picture never shrinks below its min-width
CHAR_W = 7.6  # average glyph width of the label font at LABEL_SIZE, for overlap checks
LABEL_H = 18
MAX_CONCEPTS = 40
SEED = 7

# (colour, dash pattern, words) per relation type; colours pass 3:1 against the white background.
EDGE_STYLES = {
    "is_a": ("#1d4ed8", "", "is a"),
    "part_of": ("#047857", "8 4", "part of"),
    "causes": ("#b91c1c", "", "causes"),
    "defined_as": ("#7c3aed", "2 4", "is defined as"),
    "example_of": ("#b45309", "10 3 2 3", "is an example of"),
    "contrasts_with": ("#be185d", "4 4", "contrasts with"),
    "related_to": ("#64748b", "1 3", "is related to"),
}


@dataclass
class Node:
    concept: Concept
    x: float
    y: float
    r: float
    label_y: float = 0.0

    @property
    def id(self) -> int:
        return self.concept.pk

    @property
    def name(self) -> str:
        return self.concept.name

    @property
    def label_w(self) -> float:
        return len(self.concept.name) * CHAR_W + 8


@dataclass
class Edge:
    relation: Relation
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def colour(self) -> str:
        return EDGE_STYLES.get(self.relation.type, EDGE_STYLES["related_to"])[0]

    @property
    def dash(self) -> str:
        return EDGE_STYLES.get(self.relation.type, EDGE_STYLES["related_to"])[1]

    @property
    def words(self) -> str:
        return EDGE_STYLES.get(self.relation.type, EDGE_STYLES["related_to"])[2]


@dataclass
class Picture:
    width: int
    height: int
    nodes: list[Node]
    edges: list[Edge]
    legend: list[tuple[str, str, str, str]] = field(default_factory=list)  # (type, colour, dash, words)
    hidden: int = 0  # concepts left out to keep the picture readable


def graph_picture(graph: ConceptGraph, *, limit: int = MAX_CONCEPTS) -> Picture:
    concepts = list(graph.concepts.order_by("-importance", "name"))
    shown = concepts[:limit]
    ids = {c.pk for c in shown}
    relations = [r for r in graph.relations.select_related("source", "target")
                 if r.source_id in ids and r.target_id in ids and r.source_id != r.target_id]
    positions, height = _layout(shown, relations)
    nodes = {c.pk: Node(concept=c, x=positions[c.pk][0], y=positions[c.pk][1], r=_radius(c)) for c in shown}
    height = _separate_labels(list(nodes.values()), height)
    edges = [_edge(r, nodes[r.source_id], nodes[r.target_id]) for r in _one_per_pair(relations)]
    used = {r.type for r in relations}
    legend = [(t, colour, dash, words) for t, (colour, dash, words) in EDGE_STYLES.items() if t in used]
    return Picture(width=WIDTH, height=height, nodes=list(nodes.values()), edges=edges, legend=legend,
                   hidden=max(0, len(concepts) - len(shown)))


def _radius(concept: Concept) -> float:
    return 6 + 10 * max(0.0, min(1.0, concept.importance))


def _layout(concepts: list[Concept], relations: list[Relation]) -> tuple[dict[int, tuple[float, float]], int]:
    """Each connected part gets its own spring layout in a box sized by its number of concepts;
    the boxes are then packed in rows (largest first). One spring layout over everything would fling
    the small parts to the edges and squeeze the main part into a sliver."""
    network = nx.Graph()
    network.add_nodes_from(c.pk for c in concepts)
    network.add_edges_from((r.source_id, r.target_id) for r in relations)
    parts = sorted((sorted(part) for part in nx.connected_components(network)), key=lambda p: (-len(p), p[0]))
    boxes = [_part_box(network.subgraph(part)) for part in parts]
    return _pack(boxes)


def _part_box(part: nx.Graph) -> tuple[float, float, dict[int, tuple[float, float]]]:
    """A part's layout scaled into a box of about NODE_AREA per concept: (width, height, positions)."""
    count = part.number_of_nodes()
    if count == 1:
        (node,) = part.nodes
        return CELL_W, CELL_H, {node: (CELL_W / 2, CELL_H / 2)}
    raw = nx.spring_layout(part, k=1.6 / math.sqrt(count), iterations=300, seed=SEED)
    usable = WIDTH - 2 * MARGIN
    width = min(usable, max(2 * CELL_W, math.sqrt(count * NODE_AREA * 1.6)))
    height = max(CELL_H * 1.5, count * NODE_AREA / width)
    xs = [p[0] for p in raw.values()]
    ys = [p[1] for p in raw.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    pad_x, pad_y = CELL_W / 2, CELL_H / 2
    positions = {node: (pad_x + (x - min(xs)) / span_x * (width - 2 * pad_x),
                        pad_y + (y - min(ys)) / span_y * (height - 2 * pad_y)) for node, (x, y) in raw.items()}
    return width, height, positions


def _pack(boxes: list[tuple[float, float, dict]]) -> tuple[dict[int, tuple[float, float]], int]:
    """Shelf packing: boxes left to right in rows (each as tall as its tallest box), rows centred."""
    rows: list[list[tuple[float, float, dict]]] = [[]]
    used = 0.0
    for box in boxes:
        if rows[-1] and used + box[0] > WIDTH - 2 * MARGIN + 1:
            rows.append([])
            used = 0.0
        rows[-1].append(box)
        used += box[0]
    positions: dict[int, tuple[float, float]] = {}
    y = MARGIN / 2
    for row in rows:
        x = (WIDTH - sum(width for width, _, _ in row)) / 2
        for width, _height, part in row:
            for node, (px, py) in part.items():
                positions[node] = (x + px, y + py)
            x += width
        y += max((height for _, height, _ in row), default=0)
    return positions, int(max(MIN_HEIGHT, y + MARGIN / 2))


def _separate_labels(nodes: list[Node], height: int, passes: int = 150) -> int:
    """Push apart nodes whose boxes (circle plus the label under it) overlap; returns the picture's
    height, which grows if the labels needed the room."""
    for _ in range(passes):
        moved = False
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                overlap_x = (_box_w(a) + _box_w(b)) / 2 + 6 - abs(a.x - b.x)
                overlap_y = min(_bottom(a), _bottom(b)) - max(_top(a), _top(b)) + 4
                if overlap_x <= 0 or overlap_y <= 0:
                    continue
                moved = True
                # Move along the cheaper axis: vertical moves are usually much shorter.
                if overlap_y < overlap_x:
                    shift = overlap_y / 2 + 0.5
                    sign = 1 if (a.y, a.id) >= (b.y, b.id) else -1
                    a.y += sign * shift
                    b.y -= sign * shift
                else:
                    shift = overlap_x / 2 + 0.5
                    sign = 1 if (a.x, a.id) >= (b.x, b.id) else -1
                    a.x += sign * shift
                    b.x -= sign * shift
                _clamp(a)
                _clamp(b)
        if not moved:
            break
    for node in nodes:
        node.label_y = node.y + node.r + LABEL_SIZE + 1
    return int(max([height] + [_bottom(node) + 8 for node in nodes]))


def _box_w(node: Node) -> float:
    return max(node.label_w, 2 * node.r)


def _top(node: Node) -> float:
    return node.y - node.r - 2


def _bottom(node: Node) -> float:
    return node.y + node.r + LABEL_H + 2


def _clamp(node: Node) -> None:
    """Inside the picture's width and below its top; the height grows to fit."""
    half = _box_w(node) / 2
    node.x = min(max(node.x, half + 4), WIDTH - half - 4)
    node.y = max(node.y, node.r + 4)


def _one_per_pair(relations: list[Relation]) -> list[Relation]:
    """Several relations between the same two concepts draw as one line (the strongest); the
    concept panel lists them all."""
    best: dict[frozenset, Relation] = {}
    for relation in sorted(relations, key=lambda r: -r.weight):
        best.setdefault(frozenset((relation.source_id, relation.target_id)), relation)
    return list(best.values())


def _edge(relation: Relation, source: Node, target: Node) -> Edge:
    """A line between the two circles' rims (so the arrowhead touches the target circle)."""
    dx, dy = target.x - source.x, target.y - source.y
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    return Edge(
        relation=relation,
        x1=round(source.x + ux * source.r, 1), y1=round(source.y + uy * source.r, 1),
        x2=round(target.x - ux * (target.r + 3), 1), y2=round(target.y - uy * (target.r + 3), 1),
    )
