"""What the web UI shows of quizzes: a quiz as a card (its status, the run writing it, what it got
and why it got fewer questions than asked), a student's response checked before it is graded,
and an attempt's questions with their feedback.

Reads go through studyapp.quizzes.selectors (the permission gate) and jobs.selectors; grading
stays in studyapp.quizzes.services. This module only shapes things for templates and refuses
input that cannot be graded (an option that is not one, an empty or overlong answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from jobs.models import JobRun
from jobs.selectors import latest_run
from studyapp.quizzes import selectors
from studyapp.quizzes.models import Answer, Question, Quiz, QuizAttempt
from studyapp.quizzes.results import QuestionFeedback, QuestionView
from studyapp.web.runs import RunView, run_view, student_error

TYPE_LABELS = dict(Question.Type.choices)
CHOICE_TYPES = {Question.Type.MULTIPLE_CHOICE, Question.Type.TRUE_FALSE}
MAX_RESPONSE_CHARS = 500
# How a student takes an attempt; the choice is remembered in the session.
MODES = {"one": "One question at a time", "all": "All questions on one page"}
DEFAULT_MODE = "one"
MODE_SESSION_KEY = "quiz_mode"


def types_text(types: list[str]) -> str:
    if set(types) == set(TYPE_LABELS):
        return "All question types"
    words = [TYPE_LABELS.get(t, t) for t in types]
    return ", ".join([words[0]] + [w.lower() for w in words[1:]])


def shortfall_note(quiz: Quiz) -> str:
    """Why a ready quiz has fewer questions than were asked for, in the student's words ("" if it has all)."""
    stats = quiz.stats or {}
    requested, saved = int(stats.get("requested", quiz.count)), int(stats.get("saved", 0))
    if quiz.status != Quiz.Status.READY or saved >= requested:
        return ""
    written = int(stats.get("written", saved))
    reasons = []
    if written < requested:
        reasons.append(f"this document's text gave material for {written} question{'s' * (written != 1)}")
    dropped = {reason: n for reason, n in (stats.get("dropped_reasons") or {}).items() if n}
    if dropped:
        total = sum(dropped.values())
        why = "; ".join(f"{reason}: {n}" for reason, n in sorted(dropped.items(), key=lambda item: -item[1]))
        reasons.append(f"{total} {'were' if total != 1 else 'was'} dropped by the checks ({why})")
    because = " and ".join(reasons) or "not enough questions passed the checks"
    return f"You asked for {requested} questions and got {saved}: {because}."


@dataclass(frozen=True)
class QuizCard:
    """One quiz as the lists and the quiz page show it."""

    quiz: Quiz
    run: RunView | None  # the latest create_quiz run, if any
    attempts: int = 0
    last: QuizAttempt | None = None  # the latest finished attempt at the whole quiz

    @property
    def title(self) -> str:
        return f"{self.quiz.get_difficulty_display()} quiz"

    @property
    def size(self) -> str:
        """How many questions it has ("8 of 10 questions" when it got fewer), or was asked for."""
        asked = self.quiz.count
        if not self.ready:
            return f"{asked} question{'s' * (asked != 1)} asked for"
        got = self.questions
        return f"{got} question{'s' * (got != 1)}" if got >= asked else f"{got} of {asked} questions"

    @property
    def types(self) -> str:
        return types_text(self.quiz.types)

    @property
    def status(self) -> str:
        return self.quiz.status

    @property
    def ready(self) -> bool:
        return self.quiz.status == Quiz.Status.READY

    @property
    def failed(self) -> bool:
        return self.quiz.status == Quiz.Status.FAILED

    @property
    def can_retry(self) -> bool:
        """A failed quiz can be asked for again, unless its document could not be read at all."""
        return self.failed and self.quiz.document.status != "failed"

    @property
    def writing(self) -> bool:
        """Still being written: the card polls for itself."""
        return self.quiz.status in (Quiz.Status.QUEUED, Quiz.Status.GENERATING)

    @property
    def questions(self) -> int:
        return self.quiz.question_count

    @property
    def shortfall(self) -> str:
        return shortfall_note(self.quiz)

    @property
    def error(self) -> str:
        if self.quiz.error:
            return self.quiz.error
        return student_error(self.run.run) if self.run else ""

    @property
    def stage(self) -> str:
        """What the writing is at: the run's live stage, or why it waits."""
        if self.run is None:
            return "queued"
        upstream = self.run.run.upstream
        if self.run.status == JobRun.Status.QUEUED and upstream is not None and not upstream.is_finished:
            return "waiting for the concept graph"
        return self.run.stage


def quiz_card(quiz: Quiz, *, student) -> QuizCard:
    run = latest_run(quiz, kind="create_quiz")
    attempts = selectors.attempts_for_student(student=student, quiz=quiz).filter(kind=QuizAttempt.Kind.QUIZ)
    last = attempts.filter(finished_at__isnull=False).first()
    return QuizCard(quiz=quiz, run=run_view(run) if run else None, attempts=attempts.count(), last=last)


def quiz_cards(quizzes, *, student) -> list[QuizCard]:
    return [quiz_card(quiz, student=student) for quiz in quizzes]


# --- taking a quiz ------------------------------------------------------------------------------


def checked_response(question: QuestionView, raw: str | None) -> tuple[str, str]:
    """(the response, "") if it can be graded, else (what was given, why not).

    A choice must be one of the question's own options: anything else is a tampered or stale form,
    not a wrong answer, so it is refused instead of being graded (and scheduled for review).
    """
    response = (raw or "").strip()
    choice = question.type in CHOICE_TYPES
    if not response:
        return "", "Choose one of the options." if choice else "Type your answer."
    if choice and response not in question.options:
        return response, "That is not one of the options: choose one of them."
    if len(response) > MAX_RESPONSE_CHARS:
        return response, f"Keep your answer under {MAX_RESPONSE_CHARS} characters."
    return response, ""


def time_ms_from(raw: str | None) -> int | None:
    """The time the page measured for a question (app.js), if it is a plausible number."""
    if raw and raw.isdigit() and int(raw) < 24 * 3600 * 1000:
        return int(raw)
    return None


@dataclass(frozen=True)
class AttemptQuestion:
    """A question of an attempt as the pages show it: the question, its feedback once answered,
    and the document whose pages it cites (a review spans documents)."""

    view: QuestionView
    answer: Answer
    feedback: QuestionFeedback | None
    document_id: int
    total: int
    given: str = ""  # what the student entered, shown again with an error
    error: str = ""

    @property
    def number(self) -> int:
        return self.view.position + 1

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.view.type, self.view.type)

    @property
    def is_choice(self) -> bool:
        return self.view.type in CHOICE_TYPES

    @property
    def answered(self) -> bool:
        return self.feedback is not None

    @property
    def correct(self) -> bool | None:
        return self.answer.correct

    @property
    def input_name(self) -> str:
        return f"q-{self.view.id}"


def attempt_questions(attempt: QuizAttempt, *, given: dict[int, str] | None = None,
                      errors: dict[int, str] | None = None) -> list[AttemptQuestion]:
    """Every question of the attempt in order, answered ones with their feedback."""
    views = selectors.attempt_questions(attempt=attempt)
    answers = list(attempt.answers.select_related("question__quiz").order_by("position"))
    given, errors = given or {}, errors or {}
    return [
        AttemptQuestion(view=view, answer=answer, total=len(views),
                        feedback=selectors.feedback_for(answer) if answer.answered_at else None,
                        document_id=answer.question.quiz.document_id,
                        given=given.get(view.id, ""), error=errors.get(view.id, ""))
        for view, answer in zip(views, answers)
    ]


def result_feedback(attempt: QuizAttempt) -> list[AttemptQuestion]:
    """The result page's questions: unanswered ones too (they count as missed), with the answer."""
    rows = []
    for row in attempt_questions(attempt):
        if row.feedback is None:
            row = AttemptQuestion(view=row.view, answer=row.answer, feedback=selectors.feedback_for(row.answer),
                                  document_id=row.document_id, total=row.total)
        rows.append(row)
    return rows


def attempt_title(attempt: QuizAttempt) -> str:
    if attempt.kind == QuizAttempt.Kind.REVIEW:
        return "Review of questions due today"
    title = attempt.quiz.document.title if attempt.quiz else ""
    if attempt.kind == QuizAttempt.Kind.RETRY:
        return f"Retry of missed questions: {title}"
    return f"Quiz: {title}"


def past_attempts(attempt: QuizAttempt, *, limit: int = 10):
    """The attempts listed under a result: the same quiz's (or, for a review, earlier reviews)."""
    if attempt.kind == QuizAttempt.Kind.REVIEW:  # a review may span quizzes: list the reviews
        attempts = selectors.attempts_for_student(student=attempt.student).filter(kind=QuizAttempt.Kind.REVIEW)
    else:
        attempts = selectors.attempts_for_student(student=attempt.student, quiz=attempt.quiz)
    return list(attempts.filter(Q(finished_at__isnull=False) | Q(pk=attempt.pk)).select_related("quiz")[:limit])


@dataclass
class AllAtOnce:
    """The answers of an all-at-once form, checked: what can be graded, what is wrong, what is missing."""

    responses: dict[int, str] = field(default_factory=dict)
    given: dict[int, str] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)  # question id -> why it cannot be graded
    missing: dict[int, int] = field(default_factory=dict)  # question id -> its number, for those left empty

    def shown_errors(self, *, with_missing: bool) -> dict[int, str]:
        shown = dict(self.errors)
        if with_missing:
            shown.update({question_id: "No answer yet." for question_id in self.missing})
        return shown


def read_all_at_once(questions: list[AttemptQuestion], data) -> AllAtOnce:
    """The posted answers to the questions not answered yet (fields `q-<question id>`)."""
    checked = AllAtOnce()
    for question in questions:
        if question.answered:
            continue
        raw = data.get(question.input_name, "")
        response, error = checked_response(question.view, raw)
        if not response:
            checked.missing[question.view.id] = question.number
            continue
        checked.given[question.view.id] = response
        if error:
            checked.errors[question.view.id] = error
        else:
            checked.responses[question.view.id] = response
    return checked
