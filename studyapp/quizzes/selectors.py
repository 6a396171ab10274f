"""Reads of quizzes for the web UI and the REST API.

Public functions (keyword-only). The `*_for_owner` / `*_for_student` ones are the permission
gate: they raise the model's DoesNotExist for another student's objects (show a 404).

    quizzes_for_owner(*, owner, document=None) -> QuerySet[Quiz]          # newest first
    quiz_for_owner(*, owner, quiz_id: int) -> Quiz
    quiz_questions(*, quiz: Quiz) -> list[QuestionView]                   # no answers in them
    attempts_for_student(*, student, quiz=None) -> QuerySet[QuizAttempt]  # newest first
    attempt_for_student(*, student, attempt_id: int) -> QuizAttempt
    attempt_questions(*, attempt: QuizAttempt) -> list[QuestionView]      # in order, with `answered`
    attempt_next_question(*, attempt: QuizAttempt) -> QuestionView | None # one-at-a-time mode
    attempt_result(*, attempt: QuizAttempt) -> AttemptResult              # score + per-question feedback
    reviews_due(*, student, document=None, now=None) -> QuerySet[ReviewCard]   # due by the end of today
    review_due_count(*, student, document=None, now=None) -> int

Writes (create/request a quiz, start an attempt, submit answers, retry missed, start a review)
are in studyapp/quizzes/services.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from studyapp.quizzes.models import Answer, Question, Quiz, QuizAttempt, ReviewCard
from studyapp.quizzes.results import AttemptResult, QuestionFeedback, QuestionView


def quizzes_for_owner(*, owner, document=None) -> QuerySet[Quiz]:
    quizzes = Quiz.objects.filter(owner=owner).select_related("document")
    if document is not None:
        quizzes = quizzes.filter(document=document)
    return quizzes.order_by("-created_at")


def quiz_for_owner(*, owner, quiz_id: int) -> Quiz:
    return Quiz.objects.select_related("document").get(pk=quiz_id, owner=owner)


def _view(question: Question, position: int, answered: bool = False) -> QuestionView:
    return QuestionView(id=question.pk, position=position, type=question.type, prompt=question.prompt,
                        options=list(question.options), answered=answered)


def quiz_questions(*, quiz: Quiz) -> list[QuestionView]:
    return [_view(q, q.position) for q in quiz.questions.order_by("position")]


def attempts_for_student(*, student, quiz: Quiz | None = None) -> QuerySet[QuizAttempt]:
    attempts = QuizAttempt.objects.filter(student=student)
    if quiz is not None:
        attempts = attempts.filter(quiz=quiz)
    return attempts.order_by("-started_at")


def attempt_for_student(*, student, attempt_id: int) -> QuizAttempt:
    return QuizAttempt.objects.get(pk=attempt_id, student=student)


def attempt_questions(*, attempt: QuizAttempt) -> list[QuestionView]:
    answers = attempt.answers.select_related("question").order_by("position")
    return [_view(a.question, a.position, a.answered_at is not None) for a in answers]


def attempt_next_question(*, attempt: QuizAttempt) -> QuestionView | None:
    if attempt.is_finished:
        return None
    answer = attempt.answers.select_related("question").filter(answered_at__isnull=True).order_by("position").first()
    return _view(answer.question, answer.position) if answer else None


def feedback_for(answer: Answer) -> QuestionFeedback:
    question = answer.question
    return QuestionFeedback(
        question_id=question.pk, position=answer.position, type=question.type, prompt=question.prompt,
        options=list(question.options), response=answer.response, correct=bool(answer.correct), score=answer.score,
        correct_answer=question.answer, explanation=question.explanation, page=question.page, quote=question.quote,
        note=answer.note,
    )


def attempt_result(*, attempt: QuizAttempt) -> AttemptResult:
    answers = list(attempt.answers.select_related("question").order_by("position"))
    answered = [a for a in answers if a.answered_at is not None]
    missed = [a.question_id for a in answers
              if a.correct is False or (a.correct is None and attempt.is_finished)]
    correct = sum(bool(a.correct) for a in answered)
    score = round(sum(a.score for a in answered), 3)
    return AttemptResult(
        attempt_id=attempt.pk, quiz_id=attempt.quiz_id, kind=attempt.kind, total=len(answers), answered=len(answered),
        correct=correct, score=score, percent=round(100.0 * score / len(answers), 1) if answers else 0.0,
        finished=attempt.is_finished, started_at=attempt.started_at, finished_at=attempt.finished_at,
        feedback=[feedback_for(a) for a in answered], missed_question_ids=missed,
    )


def end_of_today(now: datetime | None = None) -> datetime:
    """Midnight at the end of today, in the current time zone."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def reviews_due(*, student, document=None, now: datetime | None = None) -> QuerySet[ReviewCard]:
    """The student's review cards due by the end of today, soonest first."""
    cards = ReviewCard.objects.filter(student=student, due__lt=end_of_today(now)).select_related(
        "question", "question__quiz", "question__quiz__document")
    if document is not None:
        cards = cards.filter(question__quiz__document=document)
    return cards.order_by("due", "pk")


def review_due_count(*, student, document=None, now: datetime | None = None) -> int:
    return reviews_due(student=student, document=document, now=now).count()
