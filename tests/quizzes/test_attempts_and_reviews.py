"""Taking a quiz: attempts, grading with feedback, retrying missed questions, FSRS reviews due today."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studyapp.ai.providers import get_provider
from studyapp.quizzes import selectors, services
from studyapp.quizzes.errors import AttemptFinished, NothingToReview, NotYours, QuizNotReady
from studyapp.quizzes.models import Quiz, ReviewCard
from studyapp.quizzes.review import STEP

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_call_at_a_time(settings):
    settings.AI_CONCURRENCY = 1


@pytest.fixture
def quiz(cell_graph) -> Quiz:
    document, _ = cell_graph
    quiz, _ = services.quiz_create(document=document, owner=document.owner, count=8, provider="local", model="local-1")
    services.quiz_generate(quiz=quiz, provider=get_provider("local"))
    quiz.refresh_from_db()
    return quiz


@pytest.fixture
def student(quiz):
    return quiz.owner


def wrong_answer(question) -> str:
    if question.type == "multiple_choice":
        return next(o for o in question.options if o != question.answer)
    if question.type == "true_false":
        return "False" if question.answer == "True" else "True"
    return "something else entirely"


def at(moment, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_questions_are_shown_without_their_answers(quiz):
    """What a student sees before answering: prompt, type, options; no answer, explanation or quote."""
    views = selectors.quiz_questions(quiz=quiz)
    assert len(views) == quiz.questions.count() == 8
    for view, question in zip(views, quiz.questions.order_by("position")):
        assert view.prompt == question.prompt and view.options == question.options
        assert not {"answer", "explanation", "quote", "accepted"} & set(vars(view))


def test_an_answer_is_graded_at_once_with_explanation_and_cited_quote(quiz, student):
    """One at a time: feedback right away; answering the same question again keeps the first grade."""
    attempt = services.attempt_start(quiz=quiz, student=student)
    first = quiz.questions.get(position=0)
    feedback = services.answer_submit(attempt=attempt, question_id=first.pk, response=first.answer, time_ms=4200)
    assert feedback.correct and feedback.score == 1.0
    assert (feedback.correct_answer, feedback.page, feedback.quote) == (first.answer, first.page, first.quote)
    assert feedback.explanation == first.explanation
    again = services.answer_submit(attempt=attempt, question_id=first.pk, response=wrong_answer(first))
    assert again.correct and again.response == first.answer
    assert attempt.answers.get(question=first).time_ms == 4200
    next_view = selectors.attempt_next_question(attempt=attempt)
    assert next_view.position == 1 and not next_view.answered


def test_all_at_once_gives_the_score_and_which_questions_were_missed(quiz, student):
    """Half right, half wrong: score 4/8, the wrong ones listed; the attempt is then closed."""
    attempt = services.attempt_start(quiz=quiz, student=student)
    questions = list(quiz.questions.order_by("position"))
    responses = {q.pk: (q.answer if q.position % 2 == 0 else wrong_answer(q)) for q in questions}
    result = services.attempt_submit(attempt=attempt, responses=responses)
    assert result.finished and (result.total, result.answered, result.correct) == (8, 8, 4)
    assert result.percent == 50.0
    assert result.missed_question_ids == [q.pk for q in questions if q.position % 2]
    assert [f.correct for f in result.feedback] == [True, False] * 4
    with pytest.raises(AttemptFinished):
        services.answer_submit(attempt=attempt, question_id=questions[0].pk, response="x")


def test_unanswered_questions_count_as_missed_once_the_attempt_ends(quiz, student):
    """Finishing after one answer: the other seven are missed and can be retried."""
    attempt = services.attempt_start(quiz=quiz, student=student)
    first = quiz.questions.get(position=0)
    services.answer_submit(attempt=attempt, question_id=first.pk, response=first.answer)
    result = services.attempt_finish(attempt=attempt)
    assert (result.answered, result.correct, len(result.missed_question_ids)) == (1, 1, 7)
    retry = services.attempt_retry_missed(attempt=attempt)
    assert retry.kind == "retry" and retry.retry_of == attempt and retry.total == 7


def test_retrying_missed_questions_asks_exactly_those(quiz, student):
    """A retry attempt holds the missed questions in their order; all right leaves nothing to retry."""
    attempt = services.attempt_start(quiz=quiz, student=student)
    questions = list(quiz.questions.order_by("position"))
    missed = questions[1:3]
    services.attempt_submit(attempt=attempt, responses={q.pk: wrong_answer(q) if q in missed else q.answer
                                                        for q in questions})
    retry = services.attempt_retry_missed(attempt=attempt)
    assert [v.id for v in selectors.attempt_questions(attempt=retry)] == [q.pk for q in missed]
    services.attempt_submit(attempt=retry, responses={q.pk: q.answer for q in missed})
    with pytest.raises(NothingToReview, match="nothing to retry"):
        services.attempt_retry_missed(attempt=retry)


def test_a_missed_question_is_due_for_review_later_today_and_then_spaced_out(quiz, student, monkeypatch):
    """FSRS per student and question: missed -> due in 10 minutes (today's list); right -> about a
    day later; right again -> later still; a correct first answer needs no review."""
    start = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    at(start, monkeypatch)
    attempt = services.attempt_start(quiz=quiz, student=student)
    questions = list(quiz.questions.order_by("position"))
    services.attempt_submit(attempt=attempt, responses={q.pk: wrong_answer(q) if q.position == 0 else q.answer
                                                        for q in questions})
    card = ReviewCard.objects.get(student=student)
    assert card.question == questions[0] and card.due == start + STEP and card.lapses == 1
    assert [c.question_id for c in selectors.reviews_due(student=student, now=start)] == [questions[0].pk]
    assert selectors.review_due_count(student=student, now=start) == 1

    at(start + STEP, monkeypatch)
    review = services.review_start(student=student)
    assert review.kind == "review" and review.total == 1
    services.attempt_submit(attempt=review, responses={questions[0].pk: questions[0].answer})
    card.refresh_from_db()
    assert card.reps == 2 and timedelta(hours=20) <= card.due - (start + STEP) <= timedelta(days=3)
    assert selectors.review_due_count(student=student, now=start + STEP) == 0
    first_interval = card.due - (start + STEP)

    later = card.due
    at(later, monkeypatch)
    assert selectors.review_due_count(student=student, now=later) == 1
    services.attempt_submit(attempt=services.review_start(student=student), responses={questions[0].pk: questions[0].answer})
    card.refresh_from_db()
    assert card.due - later > first_interval


def test_missing_a_question_again_sends_it_back_to_relearning(quiz, student, monkeypatch):
    """A lapse: due again in 10 minutes, lapses counted."""
    start = timezone.now()
    at(start, monkeypatch)
    question = quiz.questions.get(position=0)
    services.attempt_submit(attempt=services.attempt_start(quiz=quiz, student=student),
                            responses={question.pk: wrong_answer(question)})
    at(start + timedelta(days=2), monkeypatch)
    services.attempt_submit(attempt=services.review_start(student=student), responses={question.pk: wrong_answer(question)})
    card = ReviewCard.objects.get(student=student, question=question)
    assert card.lapses == 2 and card.due == start + timedelta(days=2) + STEP


def test_nothing_due_is_a_clear_message(quiz, student):
    """No missed questions: no review to start."""
    with pytest.raises(NothingToReview, match="Nothing is due"):
        services.review_start(student=student)


def test_another_students_quiz_cannot_be_taken_or_read(quiz, bob):
    """Services refuse; selectors raise DoesNotExist (a 404 for the web UI and the API)."""
    with pytest.raises(NotYours):
        services.attempt_start(quiz=quiz, student=bob)
    with pytest.raises(Quiz.DoesNotExist):
        selectors.quiz_for_owner(owner=bob, quiz_id=quiz.pk)
    attempt = services.attempt_start(quiz=quiz, student=quiz.owner)
    with pytest.raises(type(attempt).DoesNotExist):
        selectors.attempt_for_student(student=bob, attempt_id=attempt.pk)
    assert list(selectors.quizzes_for_owner(owner=bob)) == []


def test_a_quiz_still_being_written_cannot_be_started(cell_graph):
    """Queued or failed quizzes say why."""
    document, _ = cell_graph
    quiz, _ = services.quiz_create(document=document, owner=document.owner, count=3, provider="local", model="local-1")
    with pytest.raises(QuizNotReady, match="still being written"):
        services.attempt_start(quiz=quiz, student=document.owner)
    services.quiz_mark_failed(quiz_id=quiz.pk, error="graph generation failed: boom")
    quiz.refresh_from_db()
    with pytest.raises(QuizNotReady, match="graph generation failed: boom"):
        services.attempt_start(quiz=quiz, student=document.owner)


def test_a_typed_answer_with_a_typo_is_right_with_a_note(quiz, student):
    """Tolerant grading reaches the feedback."""
    question = quiz.questions.filter(type__in=["fill_in_blank", "short_answer"]).first()
    attempt = services.attempt_start(quiz=quiz, student=student)
    answer = question.answer
    typo = answer[:-2] + answer[-1] + answer[-2] if len(answer) > 4 else answer.upper()
    feedback = services.answer_submit(attempt=attempt, question_id=question.pk, response=f"the {typo}")
    assert feedback.correct, (answer, typo, feedback.note)
