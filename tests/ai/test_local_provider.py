"""The offline `local` provider on real documents: the sample cell-biology notes and German GeoTopo notes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from studyapp.ai.providers.local import LocalProvider
from studyapp.ai.schemas import (
    ChunkInput, ConceptInput, Evidence, ExplainInput, PathStep, RelationType, Segment,
)
from studyapp.documents.extraction import ExtractionOptions, extract_pages
from studyapp.graphs.chunking import make_chunks
from studyapp.graphs.evidence import PageIndex
from studyapp.graphs.merging import concept_key, merge_chunks

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "cell-biology-notes.pdf"
GEOTOPO = REPO / "tests" / "fixtures" / "pdfs" / "GeoTopo-komprimiert.pdf"


def pdf_pages(path: Path, *, first: int = 0, last: int = 10_000) -> list[tuple[str, str]]:
    skip = set(range(first)) | set(range(last + 1, 10_000))
    pages = extract_pages(path.read_bytes(), options=ExtractionOptions(ocr=False), skip=skip)
    return [(page.label, page.text) for page in pages if page.text.strip()]


@pytest.fixture(scope="module")
def cell_pages():
    return pdf_pages(SAMPLE)


@pytest.fixture(scope="module")
def cell_chunk(cell_pages):
    """The sample as the graph builder sends it: one chunk of sentence-joined page segments."""
    chunks = make_chunks(cell_pages)
    assert len(chunks) == 1
    return ChunkInput(segments=chunks[0].segments, max_concepts=25)


@pytest.fixture(scope="module")
def cell_result(cell_chunk):
    return LocalProvider().extract_concepts(cell_chunk)


@pytest.fixture(scope="module")
def geotopo_pages():
    if not GEOTOPO.exists():
        pytest.skip("GeoTopo fixture PDF missing")
    return pdf_pages(GEOTOPO, first=0, last=13)  # title pages and pages 1-11


def names(result) -> list[str]:
    return [c.name.lower() for c in result.output.concepts]


def test_it_finds_the_key_ideas_of_the_sample(cell_result):
    """The ideas a student would name; the sample's core terms rank high, not just anywhere."""
    found = names(cell_result)
    for expected in ("cell", "plasma membrane", "photosynthesis", "atp", "dna", "chloroplasts"):
        assert expected in found[:10], (expected, found)
    for expected in ("cellular respiration", "diffusion", "mitosis", "osmosis"):
        assert expected in found, (expected, found)
    assert len({"mitochondrion", "mitochondria"} & set(found)) == 1, found


def test_concepts_are_clean_and_cited(cell_result, cell_chunk):
    """Importance 0..1 with the best at 1.0; pages are labels of segments that mention the concept."""
    concepts = cell_result.output.concepts
    assert concepts[0].importance == 1.0
    assert all(0.0 <= c.importance <= 1.0 for c in concepts)
    assert [c.importance for c in concepts] == sorted((c.importance for c in concepts), reverse=True)
    labels = {s.page for s in cell_chunk.segments}
    text_of = {s.page: s.text.lower() for s in cell_chunk.segments}
    for concept in concepts:
        assert concept.pages and set(concept.pages) <= labels
        assert any(concept.name.lower().rstrip("s") in text_of[p] for p in concept.pages), concept
        assert not any(ch.isdigit() for ch in concept.name)
        assert len(concept.name) > 1
    keys = [concept_key(c.name) for c in concepts]
    assert len(keys) == len(set(keys)), "variants of one concept are listed once"


def test_descriptions_are_definitions_from_the_text(cell_result, cell_chunk):
    """A concept defined in the chunk gets that sentence; quoted verbatim from the text."""
    by_name = {c.name.lower(): c for c in cell_result.output.concepts}
    assert by_name["plasma membrane"].description.startswith("The plasma membrane is a thin layer")
    assert by_name["atp"].description == "ATP is the energy currency of the cell."
    whole = " ".join(s.text for s in cell_chunk.segments)
    for concept in cell_result.output.concepts:
        assert concept.description == "" or concept.description.rstrip(" …") in whole


def test_aliases_include_variants_seen_in_the_text(cell_result):
    by_name = {c.name.lower(): c for c in cell_result.output.concepts}
    chloroplast = by_name.get("chloroplasts") or by_name["chloroplast"]
    assert {"chloroplast", "chloroplasts"} & {a.lower() for a in chloroplast.aliases}
    mitochondrion = by_name.get("mitochondrion") or by_name["mitochondria"]
    assert {"mitochondria", "mitochondrion"} & {a.lower() for a in mitochondrion.aliases}


def test_abbreviations_defined_in_the_text_become_aliases():
    text = ("Deoxyribonucleic acid (DNA) carries the genetic code. DNA is copied before a cell divides. "
            "Deoxyribonucleic acid is a double helix. Each strand of deoxyribonucleic acid pairs with another.")
    result = LocalProvider().extract_concepts(ChunkInput(segments=[Segment(page="4", text=text)], max_concepts=5))
    by_name = {c.name.lower(): c for c in result.output.concepts}
    assert "DNA" in by_name["deoxyribonucleic acid"].aliases


def test_relations_are_typed_and_quote_their_page(cell_result, cell_pages):
    """Every quote is found on its page by the graph builder's own check; key links are typed."""
    relations = cell_result.output.relations
    index = PageIndex(cell_pages)
    assert relations
    for relation in relations:
        assert index.quote_on_page(relation.quote, relation.page), relation
    typed = {(concept_key(r.source), r.type, concept_key(r.target)) for r in relations}
    assert ("chloroplast", RelationType.PART_OF, "plant cell") in typed
    assert ("photosynthesis", RelationType.CONTRASTS_WITH, "cellular respiration") in typed
    assert ("osmosis", RelationType.IS_A, "diffusion") in typed
    assert ("mitosis", RelationType.IS_A, "cell division") in typed
    contrast = next(r for r in relations if r.type == RelationType.CONTRASTS_WITH
                    and concept_key(r.source) == "photosynthesis")
    assert contrast.quote == "Unlike cellular respiration, photosynthesis stores energy."
    assert contrast.page == "2"


def test_relations_are_bounded(cell_result):
    relations = cell_result.output.relations
    assert len(relations) <= 40
    pairs = {}
    for r in relations:
        pair = frozenset((r.source, r.target))
        pairs[pair] = pairs.get(pair, 0) + 1
    assert max(pairs.values()) <= 3
    # Typed relations come first, then the loose ones.
    kinds = [r.type == RelationType.RELATED_TO for r in relations]
    assert kinds == sorted(kinds)


def test_relations_survive_merging(cell_result):
    """Relation ends name extracted concepts, so the merge keeps them."""
    merged = merge_chunks([cell_result.output], max_concepts=60)
    assert len(merged.relations) >= len([r for r in cell_result.output.relations if r.source != r.target]) - 2


def test_german_lecture_notes_give_german_concepts(geotopo_pages):
    """GeoTopo: German terms in a usable form, relations quoted from their German pages."""
    provider = LocalProvider()
    found, relations = set(), []
    for chunk in make_chunks(geotopo_pages):
        result = provider.extract_concepts(ChunkInput(segments=chunk.segments, max_concepts=15))
        found |= {concept_key(c.name) for c in result.output.concepts}
        relations += result.output.relations
    assert "topologie" in found
    assert {"topologischer raum", "topologische räume"} & found, found
    assert {"metrischer raum", "metrische räume", "metrische raum"} & found, found
    assert {"hausdorff-räume", "hausdorff räume", "hausdorffraum", "hausdorff raum"} & found, found
    assert not {"definition", "beweis", "bemerkung", "sei", "beispiel"} & found
    index = PageIndex(geotopo_pages)
    assert all(index.quote_on_page(r.quote, r.page) for r in relations)
    typed = {(concept_key(r.source), r.type, concept_key(r.target)) for r in relations}
    assert any(t == RelationType.IS_A and "metrisch" in s and "topologisch" in o for s, t, o in typed), typed


def test_it_is_deterministic_and_thread_safe(cell_chunk):
    """Same input, same output, also when called from several threads at once."""
    provider = LocalProvider()
    first = provider.extract_concepts(cell_chunk).output.model_dump()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: provider.extract_concepts(cell_chunk).output.model_dump(), range(8)))
    assert all(r == first for r in results)


def test_usage_is_zero_tokens(cell_result):
    """Nothing is billed or rate-limited by a model provider, so nothing is reported."""
    assert cell_result.usage.prompt_tokens == 0 and cell_result.usage.completion_tokens == 0


def test_empty_chunks_give_empty_answers():
    provider = LocalProvider()
    assert provider.extract_concepts(ChunkInput(segments=[Segment(page="1", text="  ")])).output.concepts == []
    out = provider.extract_concepts(ChunkInput(segments=[Segment(page="1", text="1 2 3 = 4 ∈ U")])).output
    assert out.concepts == [] and out.relations == []


def test_describe_concept_prefers_a_definition():
    evidence = [Evidence(page="1", quote="2. The plasma membrane Osmosis moves water."),
                Evidence(page="1", quote="Osmosis is the diffusion of water across a selectively permeable membrane.")]
    out = LocalProvider().describe_concept(ConceptInput(name="osmosis", evidence=evidence)).output
    assert out.description == "Osmosis is the diffusion of water across a selectively permeable membrane."


def test_describe_concept_is_never_empty_and_never_about_something_else():
    """Failing a definition, a sentence the concept is the subject of; never one that only names it."""
    provider = LocalProvider()
    about = provider.describe_concept(ConceptInput(name="cancer", evidence=[
        Evidence(page="3", quote="6. Cell division Uncontrolled cell division causes cancer."),
        Evidence(page="4", quote="Cancer spreads to other tissues through the blood."),
    ])).output
    assert about.description == "Cancer spreads to other tissues through the blood."
    elsewhere = provider.describe_concept(ConceptInput(name="cancer", evidence=[
        Evidence(page="3", quote="6. Cell division Uncontrolled cell division causes cancer.")])).output
    assert elsewhere.description == "cancer: a key idea of this document."
    bare = provider.describe_concept(ConceptInput(name="Topologie")).output
    assert "Topologie" in bare.description


def test_explain_connection_walks_the_path_and_cites_pages():
    request = ExplainInput(
        source="Hausdorffraum", target="Topologie",
        path=[PathStep(source="Hausdorffraum", type=RelationType.IS_A, target="topologischer Raum", page="9",
                       quote="Ein Hausdorffraum ist ein topologischer Raum, in dem je zwei Punkte disjunkte "
                             "Umgebungen haben."),
              PathStep(source="topologischer Raum", type=RelationType.DEFINED_AS, target="Topologie", page="3",
                       quote="Ein topologischer Raum ist eine Menge zusammen mit einer Topologie.")],
        passages=[])
    out = LocalProvider().explain_connection(request).output
    assert "Hausdorffraum" in out.text and "Topologie" in out.text and "topologischer Raum" in out.text
    assert "(S. 9)" in out.text and "(S. 3)" in out.text
    assert [c.page for c in out.citations] == ["9", "3"]
    assert all(c.quote for c in out.citations)


def test_explain_connection_uses_passages_mentioning_both():
    quote = "Unlike cellular respiration, photosynthesis stores energy."
    request = ExplainInput(source="photosynthesis", target="cellular respiration",
                           passages=[Evidence(page="2", quote=quote),
                                     Evidence(page="3", quote="Mitosis is a type of cell division.")])
    out = LocalProvider().explain_connection(request).output
    assert "photosynthesis" in out.text and "cellular respiration" in out.text
    assert "(p. 2)" in out.text
    assert [(c.page, c.quote) for c in out.citations] == [("2", quote)]


def test_explain_connection_says_so_when_nothing_links_them():
    request = ExplainInput(source="osmosis", target="cancer", passages=[
        Evidence(page="1", quote="Osmosis is the diffusion of water across a selectively permeable membrane."),
        Evidence(page="3", quote="Uncontrolled cell division causes cancer.")])
    out = LocalProvider().explain_connection(request).output
    assert out.text.startswith("The document does not state a direct link between osmosis and cancer")
    assert "p. 1" in out.text and "p. 3" in out.text
    assert {c.page for c in out.citations} == {"1", "3"}
    nothing = LocalProvider().explain_connection(ExplainInput(source="a", target="b")).output
    assert nothing.text and nothing.citations == []
