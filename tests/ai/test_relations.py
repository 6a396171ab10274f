"""Typing relations from one sentence (studyapp.ai.relations), on sentences of the sample document
(samples/cell-biology-notes.pdf) and of the German GeoTopo lecture notes."""

from __future__ import annotations

import pytest

from studyapp.ai.relations import classify_relation, definition_strength, describe, find_mentions
from studyapp.ai.schemas import RelationType as T

CELL = [
    # (sentence, a, b, expected type, expected source, expected target)
    ("Osmosis is the diffusion of water across a selectively permeable membrane.", "osmosis", "diffusion",
     T.IS_A, "osmosis", "diffusion"),
    ("Mitosis is a type of cell division that produces two identical daughter cells.", "cell division", "mitosis",
     T.IS_A, "mitosis", "cell division"),
    ("Unlike cellular respiration, photosynthesis stores energy.", "photosynthesis", "cellular respiration",
     T.CONTRASTS_WITH, "photosynthesis", "cellular respiration"),
    ("The chloroplast is the site of photosynthesis and is found in plant cells, not in animal cells.",
     "plant cell", "chloroplast", T.PART_OF, "chloroplast", "plant cell"),
    ("The chloroplast is the site of photosynthesis and is found in plant cells, not in animal cells.",
     "plant cells", "animal cells", T.CONTRASTS_WITH, "plant cells", "animal cells"),
    ("The nucleus contains the chromosomes, which are made of DNA and proteins.", "nucleus", "chromosome",
     T.PART_OF, "chromosome", "nucleus"),
    ("The nucleus contains the chromosomes, which are made of DNA and proteins.", "proteins", "chromosomes",
     T.PART_OF, "proteins", "chromosomes"),
    ("Ribosomes are part of every cell; they build proteins from amino acids.", "ribosome", "cell",
     T.PART_OF, "ribosome", "cell"),
    ("Prokaryotic cells, such as bacteria, have no nucleus.", "prokaryotic cell", "bacterium",
     T.EXAMPLE_OF, "bacterium", "prokaryotic cell"),
    ("Eukaryotic cells, such as animal cells and plant cells, keep their DNA inside a nucleus.",
     "eukaryotic cells", "plant cells", T.EXAMPLE_OF, "plant cells", "eukaryotic cells"),
    ("Uncontrolled cell division causes cancer.", "cancer", "cell division", T.CAUSES, "cell division", "cancer"),
    ("Cellular respiration breaks down glucose with oxygen and releases carbon dioxide, water and ATP.",
     "cellular respiration", "ATP", T.CAUSES, "cellular respiration", "ATP"),
    ("This idea is called the cell theory.", "idea", "cell theory", T.DEFINED_AS, "cell theory", "idea"),
    ("The plasma membrane is a thin layer that separates the inside of the cell from its surroundings.",
     "cell", "plasma membrane", T.DEFINED_AS, "plasma membrane", "cell"),
    ("What is the difference between mitosis and meiosis?", "mitosis", "meiosis",
     T.CONTRASTS_WITH, "mitosis", "meiosis"),
    ("Transcription copies a gene into messenger RNA in the nucleus.", "transcription", "messenger RNA",
     T.RELATED_TO, "transcription", "messenger RNA"),
]

GEOTOPO = [
    ("2) Jeder metrische Raum (X,d) ist auch ein topologischer Raum.", "metrischer Raum", "topologischer Raum",
     T.IS_A, "metrischer Raum", "topologischer Raum"),
    ("Ein topologischer Raum ist ein Paar (X, T) bestehend aus einer Menge X und T ⊆P(X) mit folgenden "
     "Eigenschaften", "Menge", "topologischer Raum", T.PART_OF, "Menge", "topologischer Raum"),
    ("Die Elemente von T heißen offene Teilmengen von X.", "Elemente", "offene Teilmenge",
     T.DEFINED_AS, "offene Teilmenge", "Elemente"),
    ("3) Für eine Menge X heißt TDiskret = P(X) diskrete Topologie.", "Menge", "diskrete Topologie",
     T.DEFINED_AS, "diskrete Topologie", "Menge"),
    ("b) f heißt Homöomorphismus, wenn f stetig ist und es eine stetige Abbildung g : Y →X gibt, sodass "
     "g◦f = idX und f ◦g = idY.", "stetige Abbildung", "Homöomorphismus",
     T.DEFINED_AS, "Homöomorphismus", "stetige Abbildung"),
    ("Die Teilraumtopologie wird auch Spurtopologie oder Unterraumtopologie genannt.", "Teilraumtopologie",
     "Spurtopologie", T.DEFINED_AS, "Spurtopologie", "Teilraumtopologie"),
    ("1) Jede Basis ist auch eine Subbasis, z.B. S = { (a,b) |a,b∈ R,a<b} ist für R mit der Standardtopologie",
     "Subbasis", "Basis", T.IS_A, "Basis", "Subbasis"),
    ("Im Gegensatz zur euklidischen Geometrie gilt das Parallelenaxiom in der hyperbolischen Geometrie nicht.",
     "euklidische Geometrie", "hyperbolische Geometrie", T.CONTRASTS_WITH, "euklidische Geometrie",
     "hyperbolische Geometrie"),
    ("Topologische Mannigfaltigkeiten sind zum Beispiel Sphären und Tori.", "topologische Mannigfaltigkeit",
     "Sphäre", T.EXAMPLE_OF, "Sphäre", "topologische Mannigfaltigkeit"),
    ("Aus Kompaktheit folgt Beschränktheit.", "Kompaktheit", "Beschränktheit", T.CAUSES, "Kompaktheit",
     "Beschränktheit"),
    ("Die Kugel besteht aus zwei Halbkugeln.", "Kugel", "Halbkugel", T.PART_OF, "Halbkugel", "Kugel"),
]


@pytest.mark.parametrize("sentence,a,b,type_,source,target", CELL)
def test_it_types_english_sentences(sentence, a, b, type_, source, target):
    """The type and the direction come from what the sentence says."""
    found = classify_relation(sentence, a, b, "en")
    assert found is not None
    assert (found.type, found.source, found.target) == (type_, source, target)
    assert source in found.description and target in found.description


@pytest.mark.parametrize("sentence,a,b,type_,source,target", GEOTOPO)
def test_it_types_german_sentences(sentence, a, b, type_, source, target):
    """German lecture notes: inflected forms ("metrische Raum", "Halbkugeln") still count as mentions."""
    found = classify_relation(sentence, a, b, "de")
    assert found is not None
    assert (found.type, found.source, found.target) == (type_, source, target)


def test_it_returns_none_unless_both_are_mentioned():
    """No relation from a sentence that names only one of the two."""
    assert classify_relation("Uncontrolled cell division causes cancer.", "cancer", "osmosis") is None
    assert classify_relation("", "a", "b") is None
    assert classify_relation("Cells divide.", "cell", "cells") is None  # the same concept


def test_a_mention_inside_a_longer_concept_does_not_count():
    """'cell' inside 'animal cells' is not the concept 'cell' when 'animal cell' is a concept too."""
    sentence = "Eukaryotic cells, such as animal cells and plant cells, keep their DNA inside a nucleus."
    assert classify_relation(sentence, "cell", "nucleus", "en",
                             others=["eukaryotic cell", "animal cell", "plant cell"]) is None
    assert classify_relation(sentence, "DNA", "nucleus", "en", others=["eukaryotic cell"]).type == T.PART_OF


def test_a_negated_link_is_not_typed():
    """'X is not a Y' is no is_a; the pair is only related."""
    found = classify_relation("A virus is not a cell.", "virus", "cell", "en")
    assert found.type == T.RELATED_TO


def test_a_mid_sentence_contrast_is_with_what_precedes_the_cue():
    """'In A gibt es, im Gegensatz zu B, C': A contrasts with B, C does not."""
    sentence = ("In der sphärischen Geometrie gibt es, im Gegensatz zur euklidischen Geometrie, Dreiecke mit "
                "drei rechten Winkeln.")
    assert classify_relation(sentence, "sphärische Geometrie", "euklidische Geometrie", "de").type == T.CONTRASTS_WITH
    assert classify_relation(sentence, "Dreieck", "euklidische Geometrie", "de").type == T.RELATED_TO


def test_a_preposition_keeps_the_wrong_subject_out():
    """'Jede Isometrie zwischen metrischen Räumen ist ein Homöomorphismus': the spaces are not the subject."""
    sentence = "b) Jede Isometrie f : X →Y zwischen metrischen Räumen ist ein Homöomorphismus."
    assert classify_relation(sentence, "metrischer Raum", "Homöomorphismus", "de").type == T.RELATED_TO


def test_far_apart_or_formula_separated_mentions_are_not_related():
    """Thirty words or a formula arrow between two names is not one statement about them."""
    long = "The cell " + "word " * 40 + "meets the nucleus."
    assert classify_relation(long, "cell", "nucleus", "en") is None
    assert classify_relation("Dann ist U offen ⇒ V ist eine Basis.", "U offen", "Basis", "de") is None


def test_mentions_tolerate_inflection():
    """Plurals, Latin/Greek plurals, German endings and umlauts; German nouns keep their capital."""

    def found(text, name, language):
        return [text[a:b] for a, b in find_mentions(text, name, language)]

    assert found("Why do plant cells have mitochondria?", "mitochondrion", "en") == ["mitochondria"]
    assert found("Seien X,Y metrische Räume.", "metrischer Raum", "de") == ["metrische Räume"]
    assert found("Both case studies agree.", "case study", "en") == ["case studies"]
    assert found("falls x in U liegt", "Fälle", "de") == []
    assert found("Zwei Fälle", "Fall", "de") == ["Fälle"]


def test_definition_strength():
    """Clear definitions are told from mere mentions."""
    assert definition_strength("Osmosis is the diffusion of water.", "osmosis", "en") == 3
    assert definition_strength("This idea is called the cell theory.", "cell theory", "en") == 2
    assert definition_strength("Ein topologischer Raum ist ein Paar (X, T).", "topologischer Raum", "de") == 3
    assert definition_strength("Die Elemente von T heißen offene Teilmengen von X.", "offene Teilmenge", "de") == 2
    assert definition_strength("Transcription copies a gene.", "gene", "en") == 0


def test_descriptions_are_in_the_documents_language():
    """Short, readable, and without German declension errors (colons instead)."""
    assert describe("chloroplast", "plant cell", T.PART_OF, "en") == "chloroplast is part of plant cell"
    assert describe("Basis", "Topologie", T.DEFINED_AS, "de") == "Basis wird definiert mithilfe von: Topologie"


def test_a_bare_but_or_however_joins_clauses_and_contrasts_nothing():
    """ "The interpreter is simple, but the trace compiler needs type information": two clauses
    about two things, no contrast of the two; "whereas" states one."""
    joined = classify_relation("The interpreter is simple to write, but the trace compiler needs type information.",
                               "interpreter", "trace compiler", "en")
    assert joined is None or joined.type != T.CONTRASTS_WITH
    contrasted = classify_relation("The interpreter runs every bytecode, whereas the trace compiler runs hot loops.",
                                   "interpreter", "trace compiler", "en")
    assert contrasted.type == T.CONTRASTS_WITH


def test_two_items_of_a_list_are_not_related():
    """ "X, Y and Z" names three things; it relates none of them to another."""
    sentence = "The course covers mitosis, meiosis and cell division in plants."
    assert classify_relation(sentence, "mitosis", "meiosis", "en") is None
    assert classify_relation(sentence, "meiosis", "cell division", "en") is None
    stated = classify_relation("Mitosis ends with two nuclei that meiosis never produces.", "mitosis", "meiosis", "en")
    assert stated is not None and stated.type == T.RELATED_TO


def test_a_named_term_is_defined_by_what_precedes_the_naming_not_by_what_follows():
    sentence = "The number of such robots that can be operated is called the fan-out of a human-robot team."
    follows = classify_relation(sentence, "fan-out", "human-robot team", "en")
    assert follows is None or follows.type != T.DEFINED_AS
    precedes = classify_relation(sentence, "robot", "fan-out", "en")
    assert precedes is not None and (precedes.source, precedes.type) == ("fan-out", T.DEFINED_AS)


def test_defining_an_equation_that_relates_two_terms_defines_neither():
    sentence = "We define an equation that relates fan-out to a robot's activity time and its interaction time."
    for a, b in (("fan-out", "activity time"), ("activity time", "interaction time")):
        found = classify_relation(sentence, a, b, "en")
        assert found is None or found.type != T.DEFINED_AS
