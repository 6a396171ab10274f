"""Merging per-chunk concepts: conservative, never transitive."""

from __future__ import annotations

from studyapp.ai.schemas import ChunkConcepts, ConceptOut, RelationOut
from studyapp.graphs.merging import concept_key, merge_chunks, split_abbreviation


def concepts(*names: str, importance: float = 0.5) -> ChunkConcepts:
    return ChunkConcepts(concepts=[ConceptOut(name=n, importance=importance, pages=["1"]) for n in names])


def keys(results: list[ChunkConcepts]) -> set[str]:
    return set(merge_chunks(results).concepts)


def test_case_punctuation_and_plural_forms_are_one_concept():
    """'Cells', 'cell' and 'Cell.' merge; the names become aliases."""
    merged = merge_chunks([concepts("Cells", importance=0.9), concepts("cell", "Cell.")])
    assert set(merged.concepts) == {"cell"}
    assert merged.concepts["cell"].name == "Cells"


def test_an_abbreviation_in_parentheses_is_an_alias():
    """'Deoxyribonucleic acid (DNA)' and a later 'DNA' are one concept."""
    assert split_abbreviation("Deoxyribonucleic acid (DNA)") == ("Deoxyribonucleic acid", "DNA")
    merged = merge_chunks([concepts("Deoxyribonucleic acid (DNA)", importance=0.9), concepts("DNA")])
    assert list(merged.concepts) == ["deoxyribonucleic acid"]
    assert "DNA" in merged.concepts["deoxyribonucleic acid"].aliases


def test_near_duplicates_merge_only_when_they_differ_at_the_end_or_in_hyphens():
    """Hausdorff-Raum = Hausdorffraum and Hausdorffräume? no; Homomorphismus != Homöomorphismus."""
    assert keys([concepts("Hausdorff-Raum", "Hausdorffraum")]) == {"hausdorff raum"}
    assert len(keys([concepts("Homomorphismus", "Homöomorphismus")])) == 2
    assert len(keys([concepts("mitochondrion", "mitochondria")])) == 2  # conservative: not by similarity


def test_merging_never_chains_through_a_middle_name():
    """'cell' ~ 'cells', but 'cell wall' does not join 'cell' because it resembles a member."""
    assert keys([concepts("cell", "cells", "cell wall")]) == {"cell", "cell wall"}


def test_self_loops_and_edges_to_unknown_concepts_are_dropped():
    """Relations need two different known ends."""
    result = ChunkConcepts(
        concepts=[ConceptOut(name="osmosis", pages=["1"]), ConceptOut(name="diffusion", pages=["1"])],
        relations=[RelationOut(source="osmosis", target="diffusion", type="is_a", page="1", quote="q"),
                   RelationOut(source="Osmosis", target="osmosis", page="1", quote="q"),
                   RelationOut(source="osmosis", target="ghost", page="1", quote="q")],
    )
    merged = merge_chunks([result])
    assert [(r.source, r.type.value, r.target) for r in merged.relations] == [("osmosis", "is_a", "diffusion")]


def test_the_graph_is_capped_to_the_most_important_concepts():
    """max_concepts keeps the top by importance and drops their relations."""
    many = ChunkConcepts(concepts=[ConceptOut(name=f"concept number {i}", importance=i / 100) for i in range(30)])
    merged = merge_chunks([many], max_concepts=5)
    assert set(merged.concepts) == {concept_key(f"concept number {i}") for i in range(25, 30)}


def test_importance_is_the_documents_not_one_chunks_and_never_ties_by_name():
    """Every chunk has a best concept at 1.0; the document's ranking adds up what the chunks said,
    so the idea of every chunk outranks the best of one, and ties go to the concept named first."""
    chunks = [
        ChunkConcepts(concepts=[ConceptOut(name="zebra finch", importance=1.0, pages=["1"]),
                                ConceptOut(name="trace tree", importance=0.8, pages=["1"])]),
        ChunkConcepts(concepts=[ConceptOut(name="apple", importance=1.0, pages=["2"]),
                                ConceptOut(name="trace tree", importance=0.8, pages=["2"])]),
        ChunkConcepts(concepts=[ConceptOut(name="guard", importance=1.0, pages=["3"]),
                                ConceptOut(name="trace tree", importance=0.8, pages=["3"])]),
    ]
    merged = merge_chunks(chunks)
    ranked = sorted(merged.concepts.values(), key=lambda c: -c.importance)
    assert ranked[0].name == "trace tree" and ranked[0].importance == 1.0
    # The three single-chunk bests tie in score; they keep the document's order, not the alphabet's.
    assert [c.name for c in ranked[1:]] == ["zebra finch", "apple", "guard"]
    assert all(c.importance < 1.0 for c in ranked[1:])


def test_names_that_are_no_concept_are_dropped_whichever_provider_gave_them():
    """A model's junk goes the way the local provider's does: function-word edges, contractions
    that lost their apostrophe, pieces of split words; their relations go with them."""
    result = ChunkConcepts(
        concepts=[ConceptOut(name=n, importance=0.9) for n in
                  ("osmosis", "diffusion of", "heres", "selec-", "in the membrane", "water potential")],
        relations=[RelationOut(source="osmosis", target="diffusion of", type="related_to", page="1", quote="q"),
                   RelationOut(source="osmosis", target="water potential", type="related_to", page="1", quote="q")],
    )
    merged = merge_chunks([result])
    assert sorted(c.name for c in merged.concepts.values()) == ["osmosis", "water potential"]
    assert [(r.source, r.target) for r in merged.relations] == [("osmosis", "water potential")]


def test_a_cited_author_is_no_concept():
    result = ChunkConcepts(concepts=[ConceptOut(name=n, importance=0.9) for n in
                                     ("Gal", "Andreas Gal", "trace tree", "Franz", "Markov chain")])
    merged = merge_chunks([result], people=frozenset({"Gal", "Franz"}))
    assert sorted(c.name for c in merged.concepts.values()) == ["Markov chain", "trace tree"]
