"""The local provider's question writer on hand-made material (no database): each question type,
distractors of the same kind, swapped relation targets, and what must never be an option."""

from __future__ import annotations

import re

import pytest

from studyapp.ai.providers.local import LocalProvider
from studyapp.ai.questions import is_variant, normalise_answer, quotable, same_shape
from studyapp.ai.schemas import (
    FALSE, TRUE, Difficulty, Evidence, QuestionType, QuizConcept, QuizInput, QuizRelation, RelationType,
)

PASSAGES = [
    Evidence(page="1", quote="Osmosis is the diffusion of water across a selectively permeable membrane."),
    Evidence(page="1", quote="Diffusion is the movement of molecules from a region of high concentration to a region of low concentration."),
    Evidence(page="2", quote="The mitochondrion is the site of cellular respiration; it converts the energy stored in glucose into ATP."),
    Evidence(page="2", quote="The chloroplast is the site of photosynthesis and is found in plant cells, not in animal cells."),
    Evidence(page="3", quote="Mitosis is a type of cell division that produces two identical daughter cells."),
    Evidence(page="3", quote="A gene is a segment of DNA that codes for a protein."),
]

CONCEPTS = [
    ("osmosis", [], 0.45), ("diffusion", [], 0.57), ("mitochondrion", ["mitochondria"], 0.48),
    ("chloroplasts", ["chloroplast"], 0.65), ("mitosis", [], 0.51), ("gene", [], 0.42), ("DNA", [], 0.73),
    ("cell division", [], 0.59), ("photosynthesis", [], 0.65), ("cellular respiration", [], 0.41),
    ("cell", [], 1.0), ("ATP", [], 0.64), ("mutation", [], 0.51),
]

RELATIONS = [
    QuizRelation(source="osmosis", target="diffusion", type=RelationType.IS_A, page="1", quote=PASSAGES[0].quote),
    QuizRelation(source="mitosis", target="cell division", type=RelationType.IS_A, page="3", quote=PASSAGES[4].quote),
    QuizRelation(source="mitochondrion", target="cellular respiration", type=RelationType.DEFINED_AS, page="2",
                 quote=PASSAGES[2].quote),
    QuizRelation(source="chloroplasts", target="photosynthesis", type=RelationType.DEFINED_AS, page="2",
                 quote=PASSAGES[3].quote),
    QuizRelation(source="gene", target="DNA", type=RelationType.DEFINED_AS, page="3", quote=PASSAGES[5].quote),
]

FOCUS = {"osmosis", "diffusion", "mitochondrion", "chloroplasts", "mitosis", "gene"}


def request(types: list[QuestionType], difficulty: Difficulty = Difficulty.MEDIUM, avoid: list[str] = ()) -> QuizInput:
    concepts = [QuizConcept(name=n, aliases=a, importance=i, pages=["1"], focus=n in FOCUS) for n, a, i in CONCEPTS]
    return QuizInput(types=types, difficulty=difficulty, concepts=concepts, relations=RELATIONS, passages=PASSAGES,
                     language="en", avoid=list(avoid))


def write(types, **kwargs):
    return LocalProvider().write_questions(request(types, **kwargs)).output.questions


def quote_of(question) -> str:
    assert question.quote in {p.quote for p in PASSAGES} | {r.quote for r in RELATIONS}
    return question.quote


def test_it_blanks_a_concept_in_its_definition_and_the_answer_fills_it():
    """fill_in_blank: the definitional sentence with the term blanked; the answer restores it."""
    (question,) = write([QuestionType.FILL_IN_BLANK])
    assert question.type == QuestionType.FILL_IN_BLANK and "_____" in question.prompt
    assert question.prompt.replace("_____", question.answer).lower() == quote_of(question).lower()
    assert question.page in {"1", "2", "3"} and question.explanation


def test_an_article_before_the_blank_does_not_give_the_answer_away():
    """ "An organelle is ..." becomes "A(n) _____ is ..."."""
    passages = [Evidence(page="2", quote="An organelle is a specialised structure inside a eukaryotic cell.")]
    concepts = [QuizConcept(name="organelle", importance=0.9, focus=True), QuizConcept(name="cell", importance=1.0)]
    out = LocalProvider().write_questions(QuizInput(types=[QuestionType.FILL_IN_BLANK], concepts=concepts,
                                                    passages=passages, language="en")).output
    assert out.questions[0].prompt == "A(n) _____ is a specialised structure inside a eukaryotic cell."


def test_a_short_answer_asks_for_the_term_of_a_definition():
    """short_answer: "What is the term for <the definition>?", answered by the term."""
    (question,) = write([QuestionType.SHORT_ANSWER])
    assert question.prompt.startswith("What is the term for ") and question.prompt.endswith("?")
    assert normalise_answer(question.answer) in normalise_answer(quote_of(question))
    assert normalise_answer(question.answer) not in normalise_answer(question.prompt)


def test_a_definition_cut_at_its_clause_end_makes_the_question():
    """ "the site of photosynthesis | and is found in plant cells": only the definition is asked."""
    questions = write([QuestionType.SHORT_ANSWER] * 6)
    prompts = {q.answer: q.prompt for q in questions}
    assert prompts["chloroplast"] == "What is the term for the site of photosynthesis?"
    assert prompts["mitochondrion"] == "What is the term for the site of cellular respiration?"


def test_multiple_choice_distractors_are_other_concepts_of_the_same_kind():
    """The mitochondrion's options include the chloroplast (both 'the site of ...'); never a
    variant, alias or part of the answer, never a concept named in the passage."""
    questions = write([QuestionType.MULTIPLE_CHOICE] * 6, difficulty=Difficulty.MEDIUM)
    assert len(questions) >= 4
    by_answer = {q.answer: q for q in questions}
    site = by_answer.get("Mitochondrion") or by_answer["Chloroplasts"]
    # Options share the answer's form and grammatical number: "Chloroplasts" (a plural name) is no
    # option beside "Mitochondrion", though both are "the site of ...".
    assert site.answer in site.options and all(same_shape(site.answer, o, "en") for o in site.options)
    for question in questions:
        assert len(question.options) == 4 and question.options.count(question.answer) == 1
        assert len({normalise_answer(o) for o in question.options}) == 4
        quote = quote_of(question).lower()
        for option in question.options:
            if option == question.answer:
                continue
            assert not is_variant(option, question.answer), (option, question.answer)
            assert not re.search(rf"\b{re.escape(normalise_answer(option))}s?\b", normalise_answer(quote)), (option, quote)
        assert "Mitochondria" not in question.options  # an alias of the mitochondrion
        if question.answer == "Cell division":
            assert "Cell" not in question.options  # a part of the answer


def test_a_relation_question_asks_for_its_target_and_offers_no_second_right_answer():
    """ "mitosis is a kind of ...?" -> cell division; cell (a part of the answer's name) is no option."""
    questions = write([QuestionType.MULTIPLE_CHOICE] * 8, difficulty=Difficulty.HARD)
    relation = [q for q in questions if q.prompt == "According to the document, mitosis is a kind of which of these?"]
    assert relation, [q.prompt for q in questions]
    assert relation[0].answer == "Cell division" and len(relation[0].options) == 5
    assert "Cell" not in relation[0].options


def test_the_number_of_options_follows_the_difficulty():
    """Easy 3, medium 4, hard 5."""
    for difficulty, expected in ((Difficulty.EASY, 3), (Difficulty.MEDIUM, 4), (Difficulty.HARD, 5)):
        (question,) = write([QuestionType.MULTIPLE_CHOICE], difficulty=difficulty)
        assert len(question.options) == expected


def test_a_false_statement_swaps_a_relations_target_for_an_unrelated_concept_of_its_kind():
    """True/false: the passage as it stands is True; with the target swapped it is False."""
    questions = write([QuestionType.TRUE_FALSE] * 5)
    assert {q.answer for q in questions} == {TRUE, FALSE}
    for question in questions:
        assert question.options == [TRUE, FALSE]
        if question.answer == TRUE:
            assert question.prompt == question.quote
        else:
            assert question.prompt != question.quote
            kept = [w for w in question.prompt.split() if w in question.quote.split()]
            assert len(kept) >= len(question.quote.split()) - 4, "one concept swapped, the rest as written"


def test_it_writes_the_types_in_the_order_asked_and_never_cites_a_passage_twice():
    """One question per requested type, spread over concepts; every quote is a different passage."""
    plan = [QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE, QuestionType.FILL_IN_BLANK, QuestionType.SHORT_ANSWER]
    questions = write(plan)
    assert [q.type for q in questions] == plan
    assert len({q.quote for q in questions}) == 4


def test_prompts_to_avoid_are_not_written_again():
    """A second round with the first round's prompts in `avoid` asks other questions."""
    first = write([QuestionType.FILL_IN_BLANK] * 2)
    second = write([QuestionType.FILL_IN_BLANK] * 2, avoid=[q.prompt for q in first])
    assert second and not {q.prompt for q in first} & {q.prompt for q in second}


def test_the_same_input_gives_the_same_questions():
    """Deterministic: the response cache and repeated runs agree."""
    plan = [QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE]
    assert write(plan) == write(plan)


@pytest.mark.parametrize("a, b", [
    ("cell", "cell division"), ("Mitochondrion", "mitochondria"), ("DNA", "deoxyribonucleic acid"),
    ("Topologie", "topologischer Raum"), ("The plasma membrane", "plasma membrane"), ("photosynthesis", "photosynthesys"),
])
def test_variants_parts_acronyms_and_typos_are_variants(a, b):
    """Never two options that name the same thing or one inside the other."""
    assert is_variant(a, b) and is_variant(b, a)


@pytest.mark.parametrize("a, b", [("mitosis", "meiosis"), ("osmosis", "diffusion"), ("ATP", "DNA"), ("gene", "genome")])
def test_distinct_concepts_are_not_variants(a, b):
    """Similar-looking but different concepts can be options side by side."""
    assert not is_variant(a, b) and not is_variant(b, a)


@pytest.mark.parametrize("sentence, ok", [
    ("Osmosis is the diffusion of water across a selectively permeable membrane.", True),
    ("Why do plant cells have both mitochondria and chloroplasts?", False),
    ("Sei X ein topologischer Raum und U eine offene Menge.", False),
    ("Eine Abbildung d : X×X → R heißt Metrik, wenn gilt:", False),
    ("Zeigen Sie, dass jede Basis auch eine Subbasis ist.", False),
    ("Then it follows that the membrane is permeable to water.", False),
    ("you information about the selected font and the look.", False),
])
def test_only_plain_standalone_statements_are_quotable(sentence, ok):
    """No questions, formulas, symbols, exercises, dangling openers or fragments."""
    assert quotable(sentence) is ok
