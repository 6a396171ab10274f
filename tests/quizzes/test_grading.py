"""Grading: exact for choices, tolerant for typed answers (case, accents, articles, small typos)."""

from __future__ import annotations

import pytest

from studyapp.quizzes.grading import grade

MC = dict(type="multiple_choice", answer="Osmosis", options=["Osmosis", "Diffusion", "Mitosis", "Photosynthesis"])


def typed(response: str, answer: str = "mitochondrion", accepted=("mitochondria",), rivals=(), type="fill_in_blank"):
    return grade(type=type, response=response, answer=answer, accepted=list(accepted), rivals=list(rivals))


def test_multiple_choice_is_right_only_for_the_correct_option():
    """Exact: the option itself (case and spacing do not matter), nothing close to it."""
    assert grade(response="Osmosis", **MC).correct
    assert grade(response="  osmosis ", **MC).correct
    assert not grade(response="Diffusion", **MC).correct
    wrong = grade(response="Osmosys", **MC)
    assert not wrong.correct and wrong.note == "That is not one of the options."


@pytest.mark.parametrize("response, correct", [
    ("True", True), ("true", True), ("T", True), ("yes", True), ("Wahr", True), ("richtig", True),
    ("False", False), ("falsch", False), ("no", False),
])
def test_true_false_accepts_the_usual_spellings(response, correct):
    """True/False, t/f, yes/no, wahr/falsch: graded against the answer True."""
    assert grade(type="true_false", response=response, answer="True", options=["True", "False"]).correct is correct


def test_true_false_refuses_anything_else():
    """'maybe' is no answer to a true/false question."""
    result = grade(type="true_false", response="maybe", answer="False", options=["True", "False"])
    assert not result.correct and result.note == "Answer True or False."


@pytest.mark.parametrize("response", ["mitochondrion", "Mitochondrion", "The mitochondrion", "the  Mitochondrion.",
                                      "mitochondria", "a mitochondrion"])
def test_case_articles_punctuation_and_accepted_forms_are_exact(response):
    """No note: these are the answer."""
    result = typed(response)
    assert result.correct and result.score == 1.0 and result.note == ""


def test_accents_do_not_matter():
    """'Homoomorphismus' for 'Homöomorphismus', 'Raume' for 'Räume', 'Strasse' for 'Straße'."""
    assert typed("Homoomorphismus", answer="Homöomorphismus", accepted=()).correct
    assert typed("metrische Raume", answer="metrische Räume", accepted=()).correct
    assert typed("strasse", answer="Straße", accepted=()).correct
    assert typed("der Homöomorphismus", answer="Homöomorphismus", accepted=()).correct  # German article


def test_small_typos_pass_with_a_note():
    """One transposition or letter in a long word is a typo; the note shows the right spelling."""
    result = typed("photosytnhesis", answer="photosynthesis", accepted=())
    assert result.correct and "photosynthesis" in result.note
    assert typed("mitocondrion").correct
    assert typed("plasma membrain", answer="plasma membrane", accepted=()).correct


def test_short_answers_get_no_typo_allowance_and_longer_ones_a_limited_one():
    """'DNS' is not 'DNA'; 'meiosis' is not 'mitosis' (two edits in seven letters)."""
    assert not typed("DNS", answer="DNA", accepted=()).correct
    assert typed("dna", answer="DNA", accepted=()).correct
    assert not typed("meiosis", answer="mitosis", accepted=()).correct
    assert not typed("osmosis", answer="mitosis", accepted=()).correct


def test_another_concept_of_the_document_is_wrong_however_close():
    """With both in the graph, 'Homomorphismus' is not a typo of 'Homöomorphismus'."""
    result = typed("Homomorphismus", answer="Homöomorphismus", accepted=(), rivals=["Homomorphismus", "Metrik"])
    assert not result.correct and "another concept" in result.note
    near = typed("Homomorphismuss", answer="Homöomorphismus", accepted=(), rivals=["Homomorphismus"])
    assert not near.correct and "nearer to another concept" in near.note
    assert typed("Homöomorphismus", answer="Homöomorphismus", accepted=(), rivals=["Homomorphismus"]).correct


def test_an_empty_answer_is_wrong():
    """Nothing typed: wrong, with a note."""
    result = typed("   ")
    assert not result.correct and result.note == "No answer given."


def test_a_long_expected_answer_accepts_the_same_words_in_other_order():
    """Short answers written by a model may be phrases: nearly the same words count."""
    answer = "the diffusion of water across a selectively permeable membrane"
    assert typed("diffusion of water across a selectively permeable membrane", answer=answer, accepted=(),
                 type="short_answer").correct
    assert not typed("the movement of molecules", answer=answer, accepted=(), type="short_answer").correct
