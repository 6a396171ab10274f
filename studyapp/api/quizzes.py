"""Quizzes: ask for one (a job writes it), read it without its answers, answer it and get the graded
result; the questions due for review, and another go at the ones missed.

    POST /quizzes                          a quiz of a document (the same request twice: the same quiz)
    GET  /quizzes, /quizzes/{id}           mine; one, with its questions (never their answers)
    POST /quizzes/{id}/attempts            answer it all at once -> the graded result
    GET  /attempts, /attempts/{id}         my attempts; one, with its questions and its result so far
    POST /attempts/{id}/submit             answer a started attempt (a review, a retry) -> the graded result
    POST /attempts/{id}/retry-missed       a new attempt with the questions that one missed
    GET  /reviews, POST /reviews           questions due for review today; an attempt at them

The quiz's, the attempt's and the document's owner is always the caller: another student's ids are
404 like unknown ones. Quiz errors carry their nature (studyapp.quizzes.errors), so the one error
handler answers them: 409 for a quiz still being written, an attempt already submitted or nothing
to review; 400 for an answer to a question that is not in the attempt.
"""

from datetime import datetime
from typing import Literal

from django.db import transaction
from ninja import FilterSchema, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import Field

from jobs import pipelines
from jobs.selectors import latest_run
from studyapp.api.errors import read_errors, write_errors
from studyapp.api.explanations import CitationOut
from studyapp.api.jobs import JobOut
from studyapp.api.pagination import Pages
from studyapp.api.schemas import MAX_ID, InputSchema, JsonInt, ObjectId, choices, json_int
from studyapp.core.errors import NotFound
from studyapp.documents.selectors import document_for_owner
from studyapp.quizzes import selectors, services
from studyapp.quizzes.errors import QuizError
from studyapp.quizzes.models import Question, Quiz, QuizAttempt, ReviewCard
from studyapp.quizzes.results import AttemptResult, QuestionFeedback
from studyapp.quizzes.services import MAX_QUESTIONS

router = Router(tags=["quizzes"])
attempts_router = Router(tags=["quizzes"])
reviews_router = Router(tags=["quizzes"])

QuestionType = choices(Question.Type)
MAX_ANSWER_CHARS = 2000
MAX_TIME_MS = 24 * 3600 * 1000


# --- schemas ---------------------------------------------------------------------------------------------


class QuizIn(InputSchema):
    document_id: JsonInt = Field(ge=1, le=MAX_ID, description="one of my documents")
    count: json_int(ge=1, le=MAX_QUESTIONS) | None = Field(None, description="questions; default QUIZ_DEFAULT_COUNT")
    difficulty: choices(Quiz.Difficulty) | None = Field(None, description="default QUIZ_DEFAULT_DIFFICULTY")
    types: list[QuestionType] | None = Field(None, min_length=1, max_length=len(Question.Type),
                                             description="question types to mix; default all four")


class QuestionOut(Schema):
    """A question as it is asked: no answer, explanation or quote until it has been answered."""

    id: int
    position: int = Field(description="0-based, in the quiz (or the attempt)")
    type: QuestionType
    prompt: str
    options: list[str] = Field(description="the choices of multiple_choice and true_false; else empty")


class AttemptQuestionOut(QuestionOut):
    answered: bool


class QuizOut(Schema):
    id: int
    document_id: int
    status: choices(Quiz.Status)
    error: str = Field(description="why writing it failed, in words for the student")
    count: int = Field(description="questions asked for")
    question_count: int = Field(description="questions written and checked (once ready)")
    difficulty: choices(Quiz.Difficulty)
    types: list[QuestionType]
    provider: str
    model: str
    created_at: datetime
    finished_at: datetime | None


class QuizDetailOut(QuizOut):
    questions: list[QuestionOut] = Field(description="in order; empty until the quiz is ready")
    job: JobOut | None = Field(description="the latest job writing it")
    stats: dict = Field(description="questions asked for, written, saved, dropped (and why); provider tokens")

    @staticmethod
    def resolve_questions(quiz: Quiz) -> list:
        return selectors.quiz_questions(quiz=quiz) if quiz.status == Quiz.Status.READY else []

    @staticmethod
    def resolve_job(quiz: Quiz):
        return latest_run(quiz, kind="create_quiz")


class QuizRequestOut(Schema):
    status: Literal["ready", "pending"]
    quiz: QuizDetailOut
    job: JobOut | None = Field(description="when pending: the job writing it")


class AnswerIn(InputSchema):
    question_id: JsonInt = Field(ge=1, le=MAX_ID)
    response: str = Field(max_length=MAX_ANSWER_CHARS,
                          description="the chosen option's text (multiple choice), True or False, or the typed words")
    time_ms: json_int(ge=0, le=MAX_TIME_MS) | None = Field(None, description="how long the student took, if measured")


class AnswersIn(InputSchema):
    answers: list[AnswerIn] = Field(default_factory=list, max_length=MAX_QUESTIONS * 2,
                                    description="one per question; questions left out count as missed")


class FeedbackOut(Schema):
    """One graded answer, with what is needed to learn from it."""

    question_id: int
    position: int
    type: QuestionType
    prompt: str
    options: list[str]
    response: str
    correct: bool
    score: float = Field(description="0..1")
    correct_answer: str
    explanation: str
    citation: CitationOut = Field(description="the page (its printed label) and the verbatim quote the answer rests on")
    note: str = Field(description="how it was graded, e.g. accepted despite a small typo")

    @staticmethod
    def resolve_citation(feedback: QuestionFeedback) -> dict:
        return {"page": feedback.page, "quote": feedback.quote}


class AttemptResultOut(Schema):
    attempt_id: int
    quiz_id: int | None = Field(description="empty for a review across quizzes")
    kind: choices(QuizAttempt.Kind)
    total: int
    answered: int
    correct: int
    score: float = Field(description="sum of the answers' scores")
    percent: float
    finished: bool
    started_at: datetime
    finished_at: datetime | None
    feedback: list[FeedbackOut] = Field(description="the answered questions, in order")
    missed_question_ids: list[int] = Field(description="wrong, or (once finished) unanswered: retry these")


class AttemptSummaryOut(Schema):
    id: int
    quiz_id: int | None
    kind: choices(QuizAttempt.Kind)
    retry_of_id: int | None = Field(description="the attempt whose missed questions this one asks again")
    total: int
    correct: int = Field(description="once finished")
    score: float = Field(description="once finished")
    finished: bool
    started_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_finished(attempt: QuizAttempt) -> bool:
        return attempt.is_finished


class AttemptOut(AttemptSummaryOut):
    questions: list[AttemptQuestionOut] = Field(description="in order, without answers")
    result: AttemptResultOut = Field(description="the score and feedback so far (all of it once finished)")

    @staticmethod
    def resolve_questions(attempt: QuizAttempt) -> list:
        return selectors.attempt_questions(attempt=attempt)

    @staticmethod
    def resolve_result(attempt: QuizAttempt) -> AttemptResult:
        return selectors.attempt_result(attempt=attempt)


class QuizFilter(FilterSchema):
    document_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: choices(Quiz.Status) | None = None


class AttemptFilter(FilterSchema):
    quiz_id: int | None = Field(None, ge=1, le=MAX_ID)
    kind: choices(QuizAttempt.Kind) | None = None


class ReviewFilter(Schema):
    document_id: int | None = Field(None, ge=1, le=MAX_ID, description="only this document's questions")


class ReviewOut(Schema):
    question: QuestionOut
    quiz_id: int
    document_id: int
    document_title: str
    due: datetime
    lapses: int = Field(description="how often it was missed")

    @staticmethod
    def resolve_quiz_id(card: ReviewCard) -> int:
        return card.question.quiz_id

    @staticmethod
    def resolve_document_id(card: ReviewCard) -> int:
        return card.question.quiz.document_id

    @staticmethod
    def resolve_document_title(card: ReviewCard) -> str:
        return card.question.quiz.document.title


class ReviewStartIn(InputSchema):
    document_id: json_int(ge=1, le=MAX_ID) | None = Field(None, description="only this document's questions")
    limit: JsonInt = Field(20, ge=1, le=MAX_QUESTIONS, description="at most this many questions, soonest due first")


# --- lookups: another student's object is not found, exactly like an unknown one -----------------------------


def _quiz(request, quiz_id: int) -> Quiz:
    try:
        return selectors.quiz_for_owner(owner=request.auth, quiz_id=quiz_id)
    except Quiz.DoesNotExist:
        raise NotFound("No such quiz.") from None


def _attempt(request, attempt_id: int) -> QuizAttempt:
    try:
        return selectors.attempt_for_student(student=request.auth, attempt_id=attempt_id)
    except QuizAttempt.DoesNotExist:
        raise NotFound("No such attempt.") from None


def _responses(body: AnswersIn) -> tuple[dict[int, str], dict[int, int]]:
    responses: dict[int, str] = {}
    times: dict[int, int] = {}
    for answer in body.answers:
        if answer.question_id in responses:
            raise QuizError("Answer each question once.")
        responses[answer.question_id] = answer.response
        if answer.time_ms is not None:
            times[answer.question_id] = answer.time_ms
    return responses, times


# --- quizzes ---------------------------------------------------------------------------------------------


@router.post("", response={200: QuizRequestOut, 202: QuizRequestOut, **write_errors(404, 409)},
             summary="Ask for a quiz of a document")
def quiz_request(request, body: QuizIn):
    """202 with the quiz and the job writing it (it waits for the document's graph if that is still being built);
    200 when that quiz is ready. The same request again returns the same quiz (and, while it is written, the same
    job); a document's upload already asks for one quiz with the default options. 409 for a failed document."""
    document = document_for_owner(owner=request.auth, document_id=body.document_id)
    quiz, run = pipelines.quiz_request(document=document, owner=request.auth, count=body.count,
                                       difficulty=body.difficulty, types=body.types)
    quiz.refresh_from_db()
    if run is None:
        return Status(200, {"status": "ready", "quiz": quiz, "job": None})
    return Status(202, {"status": "pending", "quiz": quiz, "job": run})


@router.get("", response={200: list[QuizOut], **read_errors()}, summary="My quizzes, newest first")
@paginate(Pages)
def quiz_list(request, filters: Query[QuizFilter]):
    return filters.filter(selectors.quizzes_for_owner(owner=request.auth))


@router.get("/{quiz_id}", response={200: QuizDetailOut, **read_errors(404)}, summary="A quiz and its questions")
def quiz_get(request, quiz_id: ObjectId):
    """The questions as they are asked: the answers, explanations and quotes come with the graded result."""
    return _quiz(request, quiz_id)


@router.post("/{quiz_id}/attempts", response={201: AttemptResultOut, **write_errors(404, 409)},
             summary="Answer a quiz")
def quiz_submit(request, quiz_id: ObjectId, body: AnswersIn):
    """Starts an attempt at every question and grades the answers at once: per question whether it is right, the
    correct answer, the explanation and the cited page with its quote, and the score. Questions left out count as
    missed (and come back for review). 409 while the quiz is being written; 400 for a question not in the quiz."""
    quiz = _quiz(request, quiz_id)
    responses, times = _responses(body)
    with transaction.atomic():  # an answer that is refused leaves no half-graded attempt behind
        attempt = services.attempt_start(quiz=quiz, student=request.auth)
        return Status(201, services.attempt_submit(attempt=attempt, responses=responses, time_ms=times))


# --- attempts --------------------------------------------------------------------------------------------


@attempts_router.get("", response={200: list[AttemptSummaryOut], **read_errors()}, summary="My attempts, newest first")
@paginate(Pages)
def attempt_list(request, filters: Query[AttemptFilter]):
    return filters.filter(selectors.attempts_for_student(student=request.auth))


@attempts_router.get("/{attempt_id}", response={200: AttemptOut, **read_errors(404)}, summary="An attempt")
def attempt_get(request, attempt_id: ObjectId):
    """Its questions (without answers) and its result: the feedback on what has been answered."""
    return _attempt(request, attempt_id)


@attempts_router.post("/{attempt_id}/submit", response={200: AttemptResultOut, **write_errors(404, 409)},
                      summary="Answer a started attempt")
def attempt_submit(request, attempt_id: ObjectId, body: AnswersIn):
    """For attempts made by `POST /reviews` or `.../retry-missed`: grades the answers and finishes the attempt.
    409 once it has been submitted; 400 for a question that is not in it."""
    attempt = _attempt(request, attempt_id)
    responses, times = _responses(body)
    with transaction.atomic():
        return services.attempt_submit(attempt=attempt, responses=responses, time_ms=times)


@attempts_router.post("/{attempt_id}/retry-missed", response={201: AttemptOut, **write_errors(404, 409)},
                      summary="Retry the missed questions")
def attempt_retry_missed(request, attempt_id: ObjectId):
    """A new attempt with the questions this one got wrong (or left unanswered, once submitted); answer it with
    `POST /attempts/{id}/submit`. 409 when nothing was missed."""
    return Status(201, services.attempt_retry_missed(attempt=_attempt(request, attempt_id)))


# --- reviews ---------------------------------------------------------------------------------------------


@reviews_router.get("", response={200: list[ReviewOut], **read_errors(404)}, summary="Questions due for review")
@paginate(Pages)
def review_list(request, filters: Query[ReviewFilter]):
    """Questions I missed, due again by the end of today (spaced repetition, FSRS), soonest first."""
    document = None
    if filters.document_id is not None:
        document = document_for_owner(owner=request.auth, document_id=filters.document_id)
    return selectors.reviews_due(student=request.auth, document=document)


@reviews_router.post("", response={201: AttemptOut, **write_errors(404, 409)}, summary="Start a review")
def review_start(request, body: ReviewStartIn):
    """An attempt with the questions due for review (at most `limit`, soonest first); answer it with
    `POST /attempts/{id}/submit`. 409 when nothing is due."""
    document = None
    if body.document_id is not None:
        document = document_for_owner(owner=request.auth, document_id=body.document_id)
    return Status(201, services.review_start(student=request.auth, document=document, limit=body.limit))
