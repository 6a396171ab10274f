"""Each junk filter of the offline provider on a text that must pass and one that must not."""

from __future__ import annotations

import pytest

from studyapp.ai.providers.local import LocalProvider
from studyapp.ai.questions import quotable, same_shape
from studyapp.ai.schemas import ChunkInput, Segment


def concepts_of(text: str, language: str = "en") -> list[str]:
    chunk = ChunkInput(segments=[Segment(page="1", text=text)], max_concepts=15, language=language)
    return [c.name.lower() for c in LocalProvider().extract_concepts(chunk).output.concepts]


CRAZY = ("Heres to the crazy ones. The misfits. The rebels. The troublemakers. Thats the song of the "
         "crazy ones. Theyre not fond of rules. The crazy ones push the human race forward. "
         "Theyre the ones who see things differently.")


def test_a_contraction_that_lost_its_apostrophe_is_no_concept():
    found = concepts_of(CRAZY)
    assert "crazy ones" in found
    assert not any(word in name.split() for name in found for word in ("heres", "thats", "theyre"))


EVERYDAY = ("The scheduler assigns time slices to processes. A process waits in the ready queue until "
            "the scheduler picks it. Every tick adds to the elapsed time. The scheduler preempts a process when its "
            "time slice ends. Round-robin scheduling gives every process the same time slice. Time passes.")
DEFINED = ("Energy is the capacity of a system to do work. Kinetic energy is the energy of motion. "
           "Potential energy is stored energy. Energy is conserved in a closed system. "
           "The energy of a system changes when work is done on it.")


def test_an_everyday_word_is_no_concept_unless_the_document_defines_it():
    assert "time" not in concepts_of(EVERYDAY)
    assert "scheduler" in concepts_of(EVERYDAY)
    assert "energy" in concepts_of(DEFINED)


@pytest.mark.parametrize("sentence", [
    "A guard checks that the recorded trace still applies to the current values.",
    "Osmosis is the diffusion of water across a selectively permeable membrane.",
    "Results show that the collector pauses for less than a millisecond on average.",
])
def test_a_statement_that_stands_on_its_own_is_quotable(sentence):
    assert quotable(sentence)


@pytest.mark.parametrize("sentence", [
    "The egosphere is one such solution for the display of robot sensor data.",
    "And they have no respect for the status quo of the company.",
    "However, the latter approach needs far more memory than the compiler has.",
    "This view of the noise probability led to the second definition in the paper.",
    "Die Ergebnisse sind wie folgt in drei Gruppen eingeteilt worden.",
    "In the next section we show that the bound applies to the collection space as well.",
    "We present a fine-grained model of the web in which pages are tag trees.",
    "The UMTS architecture of the operator network is shown in Fig. 1 of the paper.",
    "Each of these 1112 documents was assigned one or more subject headings by an editor.",
    "Introduction Kleinberg's link analysis has revolutionized the ranking of web pages.",
    "The waiting time of a type 2 packet in the queue can be written as ....",
])
def test_a_statement_that_leans_on_its_context_is_not_quotable(sentence):
    assert not quotable(sentence)


@pytest.mark.parametrize("answer, other, same", [
    ("mitochondrion", "chloroplast", True),
    ("mitochondrion", "chloroplasts", False),  # another grammatical number
    ("Poisson distribution", "noise probability", False),  # a name among terms
    ("ATP", "glucose", False),  # an acronym among words
    ("ATP", "NADH", True),
    ("small number", "high-level topics", False),  # "topics" is a plural, "physics" is not
    ("physics", "chemistry", True),
    ("Homöomorphismus", "Isometrien", True),  # German: only the acronym rule
])
def test_options_have_the_answers_form(answer, other, same):
    language = "de" if answer.startswith("Hom") else "en"
    assert same_shape(answer, other, language) is same
