"""The quiz validity check over quizzes written from EVERY PDF in tests/fixtures/pdfs (local provider,
the whole pipeline through the job layer): 100% of saved questions pass; a PDF that cannot give a
graph or a quiz ends with a clear state and message.

The checks below are written out here, independently of studyapp.quizzes.validation (which is
also run over the saved questions): a blank filled with its answer gives back the cited sentence;
a true statement is the cited sentence, a false one differs from it by one swapped concept and
stands nowhere in the document; a multiple-choice question has one right option and no option
that is a variant of another or named in the cited sentence.
"""

from __future__ import annotations

import difflib
import re

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.ai.questions import is_variant, normalise_answer
from studyapp.ai.relations import find_mentions
from studyapp.ai.schemas import QuestionOut, QuestionType
from studyapp.graphs.evidence import PageIndex, normalise
from studyapp.graphs.services import document_pages
from studyapp.quizzes.models import Quiz
from studyapp.quizzes.validation import ConceptNames, Validator
from tests.conftest import PDFS
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORDS = {"libreoffice-writer-password.pdf": "openpassword"}
# PDFs with a text layer: each must give a ready quiz. The others may (through OCR) or may not.
# multicolumn.pdf, 002-trivial-libre-office-writer.pdf and libreoffice-writer-password.pdf are Lorem
# ipsum: Latin, which the local provider does not write material in (the run says so).
TEXT_PDFS = {"GeoTopo-komprimiert.pdf", "crazyones-pdfa.pdf", "google-doc-document.pdf", "pdflatex-4-pages.pdf"}
# Why the rest end without a quiz, when they do (the student reads these words).
CLEAR_FAILURES = ("damaged", "No readable text", "too little readable text", "No question written",
                  "no text to build a concept graph", "and German; this document is in Latin.")
ALL_PDFS = sorted(p.name for p in PDFS.glob("*.pdf"))


def test_every_fixture_pdf_is_covered():
    """The list of text PDFs names real files, so none is skipped silently."""
    assert TEXT_PDFS <= set(ALL_PDFS) and len(ALL_PDFS) >= 12


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "GeoTopo-komprimiert.pdf" else n
                                  for n in ALL_PDFS])
def test_every_saved_question_of_every_pdf_is_valid(name, alice, settings):
    """One graph build per PDF, then a 10-question quiz of all four types; check every question."""
    settings.AI_PROVIDER = "local"
    with (PDFS / name).open("rb") as fh:
        document, _ = document_upload(owner=alice, upload=fh, filename=name, password=PASSWORDS.get(name, ""))
    drain()
    quiz = Quiz.objects.get(document=document)
    run = JobRun.objects.get(kind="create_quiz", subject_id=quiz.pk)
    assert run.is_finished, (run.status, run.stage)
    if run.status != "succeeded":
        print(f"{name}: {run.status}: {run.error}")
        assert name not in TEXT_PDFS, (name, run.error)
        assert run.status == "failed" and quiz.status == "failed" and quiz.error == run.error
        assert any(reason in run.error for reason in CLEAR_FAILURES), run.error
        return
    assert quiz.status == "ready"
    print(f"{name}: {quiz.stats['saved']} of {quiz.count} questions, dropped {quiz.stats['dropped_reasons']}")
    questions = list(quiz.questions.prefetch_related("concepts").order_by("position"))
    assert 0 < len(questions) == quiz.stats["saved"] <= 10
    index = PageIndex(document_pages(document))
    for question in questions:
        check_question(question, index)
    assert len({q.content_key for q in questions}) == len(questions)
    assert len({normalise(q.prompt) for q in questions}) == len(questions)
    revalidate(quiz, questions, index)


def check_question(question, index: PageIndex) -> None:
    where = (question.type, question.prompt)
    assert index.quote_on_page(question.quote, question.page), where
    assert question.explanation and question.concepts.exists(), where
    quote = normalise(question.quote)
    if question.type == QuestionType.FILL_IN_BLANK:
        assert "_____" in question.prompt, where
        filled = [question.prompt.replace("_____", a) for a in [question.answer, *question.accepted]]
        filled = [re.sub(r"\bA\(n\) ", "A ", re.sub(r"\ba\(n\) ", "a ", f)) for f in filled]
        assert any(_same_but_articles(normalise(f), quote) for f in filled), where
    elif question.type == QuestionType.SHORT_ANSWER:
        answers = [question.answer, *question.accepted]
        assert any(_names(question.quote, a) for a in answers), where
        assert not any(_names(question.prompt, a) for a in answers), where
    elif question.type == QuestionType.MULTIPLE_CHOICE:
        options = question.options
        assert 3 <= len(options) <= 5 and options.count(question.answer) == 1, where
        assert _names(question.quote, question.answer), where
        distractors = [o for o in options if o != question.answer]
        for i, option in enumerate(options):
            for other in options[i + 1:]:
                assert not is_variant(option, other), (where, option, other)
        for option in distractors:
            assert not _names(question.quote, option), (where, option)
    else:
        assert question.options == ["True", "False"] and question.answer in ("True", "False"), where
        statement = normalise(question.prompt)
        if question.answer == "True":
            assert statement == quote, where
        else:
            assert statement != quote and index.page_of_quote(question.prompt) is None, where
            assert difflib.SequenceMatcher(None, statement.split(), quote.split()).ratio() >= 0.6, where


def _same_but_articles(a: str, b: str) -> bool:
    return re.sub(r"\ban? ", "", a) == re.sub(r"\ban? ", "", b)


def _names(text: str, term: str) -> bool:
    """The term (or an inflected form: "metrischen Räumen" for "metrische Räume") is in the text."""
    if any(find_mentions(text, term, language) for language in ("en", "de")):
        return True
    needle = normalise_answer(term)
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", normalise_answer(text)) is not None


def revalidate(quiz: Quiz, questions, index: PageIndex) -> None:
    """The saved questions pass the domain's own validation too, checked afresh."""
    concepts = [ConceptNames(c.name, tuple(c.aliases)) for c in quiz.graph.concepts.all()]
    checker = Validator(index=index, language="de" if quiz.document.title.startswith("GeoTopo") else "en",
                        types={QuestionType(t) for t in quiz.types}, concepts=concepts)
    for question in questions:
        out = QuestionOut(type=question.type, prompt=question.prompt, options=question.options, answer=question.answer,
                          accepted=question.accepted, explanation=question.explanation, page=question.page,
                          quote=question.quote)
        assert checker.check(out)[1] is None, question.prompt
