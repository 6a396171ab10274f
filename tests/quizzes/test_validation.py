"""Validation of written questions, whatever wrote them: citations, answers, options, repeats."""

from __future__ import annotations

import pytest

from studyapp.ai.schemas import QuestionOut, QuestionType
from studyapp.graphs.evidence import PageIndex
from studyapp.quizzes import validation as v

PAGES = [
    ("1", "Osmosis is the diffusion of water across a selectively permeable membrane. Diffusion is the movement "
          "of molecules from a region of high concentration to a region of low concentration."),
    ("2", "The mitochondrion is the site of cellular respiration; it converts the energy stored in glucose into ATP. "
          "Unlike cellular respiration, photosynthesis stores energy."),
]
OSMOSIS = "Osmosis is the diffusion of water across a selectively permeable membrane."


def validator(types=tuple(QuestionType)) -> v.Validator:
    return v.Validator(index=PageIndex(PAGES), language="en", types=set(types),
                       concepts=[v.ConceptNames("mitochondrion", ("mitochondria",)), v.ConceptNames("osmosis")])


def mc(**changes) -> QuestionOut:
    values = dict(type="multiple_choice", prompt="Which of these is the diffusion of water across a membrane?",
                  options=["Osmosis", "Photosynthesis", "Mitosis", "Cellular respiration"], answer="Osmosis",
                  page="1", quote=OSMOSIS, concepts=["osmosis"])
    return QuestionOut(**(values | changes))


def blank(**changes) -> QuestionOut:
    values = dict(type="fill_in_blank", prompt="_____ is the diffusion of water across a selectively permeable membrane.",
                  answer="Osmosis", page="1", quote=OSMOSIS)
    return QuestionOut(**(values | changes))


def tf(prompt: str, answer: str, **changes) -> QuestionOut:
    return QuestionOut(**(dict(type="true_false", prompt=prompt, answer=answer, page="1", quote=OSMOSIS) | changes))


def reason(question: QuestionOut, checker: v.Validator | None = None) -> str | None:
    return (checker or validator()).check(question)[1]


def test_a_good_question_of_each_type_passes():
    """Citations hold, the answer is in the passage, one right option."""
    checker = validator()
    assert reason(mc(), checker) is None
    assert reason(blank(prompt="Osmosis is the _____ of water across a selectively permeable membrane.",
                        answer="diffusion"), checker) is None
    diffusion = PAGES[0][1].split(". ")[1]
    assert reason(tf(diffusion, "True", quote=diffusion), checker) is None
    assert reason(QuestionOut(type="short_answer", prompt="What is the term for the site of cellular respiration?",
                              answer="mitochondrion", page="2", quote=PAGES[1][1].split(";")[0]), checker) is None
    assert len(checker.accepted) == 4


def test_a_quote_that_is_not_on_any_page_is_refused_and_one_on_another_page_is_recited():
    """The answer must rest on the document's own words; a wrong page label is corrected."""
    assert reason(mc(quote="Osmosis moves water through membranes.")) == v.QUOTE_NOT_ON_PAGE
    question, problem = validator().check(mc(page="2"))
    assert problem is None and question.page == "1"
    assert reason(mc(page="", quote="")) == v.NO_CITATION


def test_the_answer_must_be_in_the_cited_passage():
    """An answer the passage does not name is not supported by it."""
    assert reason(blank(answer="Mitosis", prompt="_____ is the diffusion of water.")) == v.ANSWER_NOT_IN_QUOTE


def test_exactly_one_option_is_correct():
    """The answer is an option once; no option is the answer under another name or a part of it."""
    assert reason(mc(answer="Meiosis")) == v.NOT_AN_OPTION
    assert reason(mc(options=["Osmosis", "osmosis", "Mitosis", "Diffusion"])) == v.DUPLICATE_OPTIONS
    alias = mc(prompt="Which of these is the site of cellular respiration?", answer="Mitochondrion",
               options=["Mitochondrion", "Mitochondria", "Ribosome", "Nucleus"], page="2",
               quote="The mitochondrion is the site of cellular respiration")
    assert reason(alias) == v.TWO_CORRECT
    part = mc(options=["Osmosis", "Osmosis of water", "Mitosis", "Diffusion"])
    assert reason(part) == v.TWO_CORRECT


def test_options_must_not_nearly_repeat_each_other():
    """'Cellular respiration' and 'cellular respiraton' cannot both be offered."""
    assert reason(mc(options=["Osmosis", "Cellular respiration", "Cellular respiraton", "Mitosis"])) == v.DUPLICATE_OPTIONS
    assert reason(mc(options=["Osmosis", "Mitosis"])) == v.OPTION_COUNT


def test_an_option_letter_is_repaired_to_the_option():
    """Models answer "B" or "b)": that option is the answer."""
    question, problem = validator().check(mc(answer="A"))
    assert problem is None and question.answer == "Osmosis"


def test_true_false_statements_are_checked_against_the_passage():
    """True must be what the passage says; False must not stand in the document."""
    assert reason(tf("Mitochondria are green and live in the sea.", "True")) == v.NOT_SUPPORTED
    assert reason(tf(OSMOSIS, "False")) == v.FALSE_BUT_TRUE
    assert reason(tf("Osmosis is the diffusion of sugar across a selectively permeable membrane.", "False")) is None
    question, problem = validator().check(tf(OSMOSIS, "wahr"))
    assert problem is None and question.answer == "True" and question.options == ["True", "False"]


def test_a_blank_must_hide_the_answer():
    """No blank, or the blanked term still in the sentence: refused."""
    assert reason(blank(prompt="Osmosis is the diffusion of water across a selectively permeable membrane.")) == v.NO_BLANK
    assert reason(blank(prompt="Osmosis (_____) is the diffusion of water across a membrane.")) == v.GIVES_AWAY


def test_a_blank_question_has_one_blank():
    assert reason(blank(prompt="_____ is the diffusion of water across a _____.")) == v.MANY_BLANKS
    assert reason(blank(prompt="_____ is the diffusion of water across a selectively permeable membrane.")) is None


def test_a_question_that_repeats_another_is_refused():
    """The same answer from the same passage, or nearly the same prompt: one is enough."""
    checker = validator()
    assert reason(blank(), checker) is None
    assert reason(mc(), checker) == v.REPEATS  # the same fact and answer
    # The blank's sentence stated again as true/false gives the blank away: nearly the same prompt.
    assert reason(tf(OSMOSIS, "True"), checker) == v.REPEATS


def test_types_that_were_not_asked_for_are_refused():
    """A quiz of multiple choice only keeps no true/false question."""
    assert reason(tf(OSMOSIS, "True"), validator(types=[QuestionType.MULTIPLE_CHOICE])) == v.NOT_REQUESTED


@pytest.mark.parametrize("answer", ["a whole sentence that goes on and on far beyond what a blank could hold"])
def test_a_typed_answer_must_be_a_term(answer):
    """Blanks and short answers are terms of a few words."""
    assert reason(blank(answer=answer)) == v.TOO_LONG
