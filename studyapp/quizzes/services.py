"""Quizzes: writing them (for the create_quiz job), taking them, grading, reviews.

Public functions for the web UI and the REST API (all keyword-only):

    # Ask for a quiz (creates it if new and queues the writing job; the same request twice gives
    # the same quiz and run). This one lives in the job layer, because it asks for background work:
    jobs.pipelines.quiz_request(*, document, owner, count=None, difficulty=None, types=None)
        -> tuple[Quiz, JobRun | None]      # run None when the quiz is already ready

    attempt_start(*, quiz: Quiz, student) -> QuizAttempt
        # every question of a ready quiz, unanswered; raises QuizNotReady, NotYours
    answer_submit(*, attempt: QuizAttempt, question_id: int, response: str, time_ms: int | None = None)
        -> QuestionFeedback                # one at a time; answering again returns the first grade
    attempt_submit(*, attempt: QuizAttempt, responses: Mapping[int, str],
                   time_ms: Mapping[int, int] | None = None) -> AttemptResult
        # all at once (question id -> response): grades them and finishes the attempt
    attempt_finish(*, attempt: QuizAttempt) -> AttemptResult
        # ends a one-at-a-time attempt; unanswered questions count as missed
    attempt_retry_missed(*, attempt: QuizAttempt) -> QuizAttempt
        # a new attempt with the questions missed in `attempt`; raises NothingToReview
    review_start(*, student, document=None, limit: int = 20) -> QuizAttempt
        # an attempt with the student's questions due for review today; raises NothingToReview

Reads (questions without answers, results, what is due) are in studyapp/quizzes/selectors.py.
Errors are studyapp.quizzes.errors (PermanentError subclasses with a student-readable message).

For the job layer only: quiz_create (the row, idempotent), quiz_generate (the work, with a
progress callback), quiz_mark_failed, quiz_requeue.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from studyapp.ai.errors import ProviderBadOutput
from studyapp.ai.language import check_language
from studyapp.ai.providers.base import Provider
from studyapp.ai.questions import normalise_answer
from studyapp.ai.schemas import Difficulty, QuestionOut, QuestionType, QuizInput, QuizOut, Usage
from studyapp.core.progress import ProgressCallback, no_progress
from studyapp.documents.models import Document
from studyapp.documents.services import document_language
from studyapp.graphs.evidence import PageIndex
from studyapp.graphs.models import Concept
from studyapp.graphs.services import current_graph, document_pages, run_concurrently
from studyapp.quizzes import review, selectors
from studyapp.quizzes.errors import AttemptFinished, NotEnoughMaterial, NothingToReview, NotYours, QuizError, QuizNotReady
from studyapp.quizzes.grading import grade
from studyapp.quizzes.material import QuizMaterial, quiz_material, type_plan
from studyapp.quizzes.models import Answer, Question, Quiz, QuizAttempt
from studyapp.quizzes.results import AttemptResult, QuestionFeedback
from studyapp.quizzes.validation import ConceptNames, Validator, content_key

log = logging.getLogger(__name__)

MAX_QUESTIONS = 50
MAX_ROUNDS = 2  # the first request, then one more for what validation dropped
PROVIDER_FAILED = "provider output unusable"


# --- asking for a quiz ----------------------------------------------------------------------------


def quiz_options(*, count: int | None = None, difficulty: str | None = None,
                 types: list[str] | None = None) -> tuple[int, str, list[str]]:
    """The request with defaults filled in and checked; types in one canonical order.

    Raises:
        QuizError: a count, difficulty or type that cannot be asked for.
    """
    count = settings.QUIZ_DEFAULT_COUNT if count is None else count
    difficulty = difficulty or settings.QUIZ_DEFAULT_DIFFICULTY
    types = list(types) if types else list(settings.QUIZ_DEFAULT_TYPES)
    if not isinstance(count, int) or not 1 <= count <= MAX_QUESTIONS:
        raise QuizError(f"A quiz has between 1 and {MAX_QUESTIONS} questions.")
    if difficulty not in {d.value for d in Difficulty}:
        raise QuizError("Choose the difficulty easy, medium or hard.")
    known = [t.value for t in QuestionType]
    unknown = [t for t in types if t not in known]
    if unknown:
        raise QuizError(f"Unknown question type {unknown[0]!r}; choose from {', '.join(known)}.")
    return count, difficulty, [t for t in known if t in types]


def quiz_create(*, document: Document, owner, count: int | None = None, difficulty: str | None = None,
                types: list[str] | None = None, provider: str, model: str) -> tuple[Quiz, bool]:
    """The quiz for this request, created if new. The same request twice: the same quiz."""
    count, difficulty, types = quiz_options(count=count, difficulty=difficulty, types=types)
    key = _request_key(document, count, difficulty, types, provider, model)
    return Quiz.objects.get_or_create(
        owner=owner, request_key=key,
        defaults={"document": document, "count": count, "difficulty": difficulty, "types": types,
                  "provider": provider, "model": model},
    )


def _request_key(document: Document, count: int, difficulty: str, types: list[str], provider: str, model: str) -> str:
    body = json.dumps({"document": document.pk, "content": document.sha256, "count": count, "difficulty": difficulty,
                       "types": types, "provider": provider, "model": model}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def quiz_mark_failed(*, quiz_id: int, error: str) -> None:
    Quiz.objects.filter(pk=quiz_id).exclude(status=Quiz.Status.READY).update(
        status=Quiz.Status.FAILED, error=error, finished_at=timezone.now())


def quiz_requeue(*, quiz_id: int) -> None:
    """A failed quiz asked for again (or its run retried): it is queued once more."""
    Quiz.objects.filter(pk=quiz_id).exclude(status=Quiz.Status.READY).update(
        status=Quiz.Status.QUEUED, error="", finished_at=None)


# --- writing it -----------------------------------------------------------------------------------


def quiz_generate(*, quiz: Quiz, provider: Provider, progress: ProgressCallback = no_progress,
                  concurrency: int | None = None) -> dict:
    """Write, validate and save the quiz's questions. Returns its stats (with token usage).

    Stages: "selecting concepts", "writing questions i/n" (provider calls), "validating", and
    again for the questions validation dropped (one more round), then "saving".

    Raises:
        NotEnoughMaterial: no ready graph, or nothing in it to ask about, or no question passed.
        ProviderBadOutput: every provider answer was unusable (transient: the job retries).
    """
    if quiz.status == Quiz.Status.READY:
        return dict(quiz.stats)  # delivered twice: the first run wrote it
    progress("selecting concepts")
    graph = current_graph(quiz.document)
    if graph is None:
        raise NotEnoughMaterial("This document has no concept graph yet, so no quiz can be written from it.")
    language = document_language(quiz.document)
    check_language(provider.languages, language, "Quizzes are written for documents")
    pages = document_pages(quiz.document)
    material = quiz_material(graph=graph, pages=pages, difficulty=Difficulty(quiz.difficulty), count=quiz.count,
                             language=language)
    if not material.focus:
        raise NotEnoughMaterial("This document has too little readable text about its concepts to write a quiz from.")
    Quiz.objects.filter(pk=quiz.pk).update(graph=graph, status=Quiz.Status.GENERATING, error="")
    validator = Validator(index=PageIndex(pages), language=material.language,
                          types={QuestionType(t) for t in quiz.types},
                          concepts=[ConceptNames(c.name, tuple(c.aliases)) for c in material.concepts])
    writing = _Writing(quiz, material, validator, provider, progress, concurrency or settings.AI_CONCURRENCY)
    writing.run()
    if not validator.accepted:
        if writing.failed_calls and writing.failed_calls == writing.calls:
            raise ProviderBadOutput("the AI provider returned output that does not match the expected format")
        raise NotEnoughMaterial("No question written from this document passed the checks "
                                "(answer on the cited page, one correct option).")
    progress("saving")
    stats = _save(quiz, graph, validator.accepted[: quiz.count], writing.stats(len(material.focus)))
    quiz.refresh_from_db()
    return stats


class _Writing:
    """The provider rounds of one quiz: ask, validate, ask again for what was dropped."""

    def __init__(self, quiz, material: QuizMaterial, validator: Validator, provider: Provider, progress, concurrency):
        self.quiz, self.material, self.validator = quiz, material, validator
        self.provider, self.progress, self.concurrency = provider, progress, concurrency
        self.plan = type_plan([QuestionType(t) for t in quiz.types], quiz.count)
        self.usage = Usage()
        self.written = 0
        self.dropped: Counter[str] = Counter()
        self.calls = self.failed_calls = self.rounds = 0
        self.avoid: list[str] = []
        self._lock = threading.Lock()  # provider calls finish on pool threads

    def run(self) -> None:
        for round in range(1, MAX_ROUNDS + 1):
            missing = self._missing_types()
            if not missing:
                return
            self.rounds = round
            requests = self.material.inputs(missing, Difficulty(self.quiz.difficulty), avoid=list(self.avoid),
                                            round=round)
            answers = self._ask(requests)
            self.progress("validating")
            for request, answer in zip(requests, answers):
                self._validate(request, answer)

    def _missing_types(self) -> list[QuestionType]:
        """The plan's types that accepted questions do not cover yet, as many as are missing."""
        shortfall = self.quiz.count - len(self.validator.accepted)
        if shortfall <= 0:
            return []
        left = Counter(self.plan)
        for question in self.validator.accepted:
            left[question.type] -= 1
        missing = []
        for type_ in self.plan:
            if left[type_] > 0:
                missing.append(type_)
                left[type_] -= 1
        while len(missing) < shortfall:  # the writer swapped types for ones it could write
            missing.append(self.plan[len(missing) % len(self.plan)])
        return missing[:shortfall]

    def _ask(self, requests: list[QuizInput]) -> list[QuizOut | None]:
        answers: list[QuizOut | None] = [None] * len(requests)
        total = len(requests)
        self.progress(f"writing questions 0/{total}", done=0, total=total)

        def ask(index: int) -> None:
            try:
                call = self.provider.write_questions(requests[index])
            except ProviderBadOutput as exc:
                log.warning("quiz %s: one batch of questions was unusable: %s", self.quiz.pk, exc)
                with self._lock:
                    self.usage = self.usage + getattr(exc, "usage", Usage())
                    self.failed_calls += 1
                return
            with self._lock:
                self.usage = self.usage + call.usage
            answers[index] = call.output

        def report(finished: int) -> None:
            self.progress(f"writing questions {finished}/{total}", done=finished, total=total)

        self.calls += total
        if self.concurrency == 1 or total == 1:
            # No pool for one call at a time: it would only add a thread (and a database connection).
            for index in range(total):
                ask(index)
                report(index + 1)
        else:
            run_concurrently([lambda i=i: ask(i) for i in range(total)], self.concurrency, report)
        return answers

    def _validate(self, request: QuizInput, answer: QuizOut | None) -> None:
        if answer is None:
            self.dropped[PROVIDER_FAILED] += len(request.types)
            return
        for question in answer.questions[: len(request.types)]:
            self.written += 1
            self.avoid.append(question.prompt)
            if len(self.validator.accepted) >= self.quiz.count:
                continue  # more than asked for: not needed
            valid, reason = self.validator.check(question)
            if reason is not None:
                self.dropped[reason] += 1
            elif valid.quote not in self.avoid:
                self.avoid.append(valid.quote)  # a passage asked about once is not asked about again

    def stats(self, focus: int) -> dict:
        by_type = Counter(q.type.value for q in self.validator.accepted[: self.quiz.count])
        return {
            "requested": self.quiz.count, "saved": min(len(self.validator.accepted), self.quiz.count),
            "written": self.written, "dropped": sum(self.dropped.values()), "dropped_reasons": dict(self.dropped),
            "by_type": dict(by_type), "rounds": self.rounds, "provider_calls": self.calls,
            "failed_calls": self.failed_calls, "concepts": focus,
            "prompt_tokens": self.usage.prompt_tokens, "completion_tokens": self.usage.completion_tokens,
        }


def _save(quiz: Quiz, graph, questions: list[QuestionOut], stats: dict) -> dict:
    concepts = _concept_lookup(graph)
    with transaction.atomic():
        quiz.questions.all().delete()
        rows = Question.objects.bulk_create([
            Question(quiz=quiz, position=position, type=q.type.value, prompt=q.prompt, options=q.options,
                     answer=q.answer, accepted=q.accepted, explanation=q.explanation, page=q.page[:32], quote=q.quote,
                     content_key=content_key(q))
            for position, q in enumerate(questions)
        ])
        links = []
        for row, q in zip(rows, questions):
            found = {concepts[k].pk for k in (normalise_answer(n) for n in q.concepts) if k in concepts}
            links += [Question.concepts.through(question_id=row.pk, concept_id=pk) for pk in sorted(found)]
        Question.concepts.through.objects.bulk_create(links)
        Quiz.objects.filter(pk=quiz.pk).update(status=Quiz.Status.READY, graph=graph, stats=stats, error="",
                                               finished_at=timezone.now())
    return stats


def _concept_lookup(graph) -> dict[str, Concept]:
    lookup: dict[str, Concept] = {}
    for concept in graph.concepts.all():
        for name in [concept.name, *concept.aliases]:
            lookup.setdefault(normalise_answer(name), concept)
    return lookup


# --- taking it ------------------------------------------------------------------------------------


def attempt_start(*, quiz: Quiz, student) -> QuizAttempt:
    """A new attempt at every question of a ready quiz."""
    _check_owner(quiz, student)
    if quiz.status != Quiz.Status.READY:
        raise QuizNotReady(quiz.error or "This quiz is still being written; try again in a moment.")
    return _attempt_with(student=student, quiz=quiz, questions=list(quiz.questions.order_by("position")),
                         kind=QuizAttempt.Kind.QUIZ)


def _attempt_with(*, student, quiz: Quiz | None, questions: list[Question], kind: str,
                  retry_of: QuizAttempt | None = None) -> QuizAttempt:
    with transaction.atomic():
        attempt = QuizAttempt.objects.create(quiz=quiz, student=student, kind=kind, retry_of=retry_of,
                                             started_at=timezone.now(), total=len(questions))
        Answer.objects.bulk_create([Answer(attempt=attempt, question=q, position=i) for i, q in enumerate(questions)])
    return attempt


def answer_submit(*, attempt: QuizAttempt, question_id: int, response: str, time_ms: int | None = None) -> QuestionFeedback:
    """Grade one answer at once, schedule the question's review, and return the feedback.

    Answering a question again in the same attempt returns the first grade (a double-click or a
    resent form does not change it).
    """
    if attempt.is_finished:
        raise AttemptFinished("This attempt has been submitted; start a new one to answer again.")
    answer = attempt.answers.select_related("question__quiz").filter(question_id=question_id).first()
    if answer is None:
        raise QuizError("This question is not part of this attempt.")
    if answer.answered_at is None:
        _grade_answer(answer, response, time_ms, attempt.student)
    return selectors.feedback_for(answer)


def _grade_answer(answer: Answer, response: str, time_ms: int | None, student) -> None:
    question = answer.question
    result = grade(type=question.type, response=response, answer=question.answer, options=question.options,
                   accepted=question.accepted, rivals=_rivals(question))
    now = timezone.now()
    with transaction.atomic():
        updated = Answer.objects.filter(pk=answer.pk, answered_at__isnull=True).update(
            response=response[:2000], correct=result.correct, score=result.score, note=result.note[:300],
            answered_at=now, time_ms=time_ms if time_ms is None or time_ms >= 0 else None)
        if updated:  # not graded by a request that got here first
            review.review_record(student=student, question=question, correct=result.correct,
                                 exact=result.correct and not result.note, at=now)
    answer.refresh_from_db()


def _rivals(question: Question) -> list[str]:
    """The names of the document's other concepts (a typed answer must not be one of them)."""
    graph_id = question.quiz.graph_id
    if graph_id is None:
        return []
    tested = set(question.concepts.values_list("pk", flat=True))
    names = []
    for pk, name, aliases in Concept.objects.filter(graph_id=graph_id).values_list("pk", "name", "aliases"):
        if pk not in tested:
            names += [name, *aliases]
    return names


def attempt_submit(*, attempt: QuizAttempt, responses: Mapping[int, str],
                   time_ms: Mapping[int, int] | None = None) -> AttemptResult:
    """Grade the answers (question id -> response) and finish the attempt."""
    if attempt.is_finished:
        raise AttemptFinished("This attempt has been submitted; start a new one to answer again.")
    known = set(attempt.answers.values_list("question_id", flat=True))
    unknown = [qid for qid in responses if qid not in known]
    if unknown:
        raise QuizError("Some answers are for questions that are not part of this attempt.")
    for question_id, response in responses.items():
        answer_submit(attempt=attempt, question_id=question_id, response=response,
                      time_ms=(time_ms or {}).get(question_id))
    return attempt_finish(attempt=attempt)


def attempt_finish(*, attempt: QuizAttempt) -> AttemptResult:
    """End the attempt (idempotent): its score, and unanswered questions counted as missed."""
    answers = list(attempt.answers.all())
    QuizAttempt.objects.filter(pk=attempt.pk, finished_at__isnull=True).update(
        finished_at=timezone.now(), correct=sum(bool(a.correct) for a in answers),
        score=round(sum(a.score for a in answers), 3))
    attempt.refresh_from_db()
    return selectors.attempt_result(attempt=attempt)


def attempt_retry_missed(*, attempt: QuizAttempt) -> QuizAttempt:
    """A new attempt with the questions this one missed (wrong, or unanswered once finished)."""
    missed = [a.question for a in attempt.answers.select_related("question").order_by("position")
              if a.correct is False or (a.correct is None and attempt.is_finished)]
    if not missed:
        raise NothingToReview("You got every question right: there is nothing to retry.")
    return _attempt_with(student=attempt.student, quiz=attempt.quiz, questions=missed, kind=QuizAttempt.Kind.RETRY,
                         retry_of=attempt)


def review_start(*, student, document: Document | None = None, limit: int = 20) -> QuizAttempt:
    """An attempt with the student's questions due for review today (soonest first)."""
    cards = list(selectors.reviews_due(student=student, document=document).select_related("question")[:limit])
    if not cards:
        raise NothingToReview("Nothing is due for review today.")
    quizzes = {card.question.quiz_id for card in cards}
    quiz = Quiz.objects.get(pk=quizzes.pop()) if len(quizzes) == 1 else None
    return _attempt_with(student=student, quiz=quiz, questions=[c.question for c in cards], kind=QuizAttempt.Kind.REVIEW)


def _check_owner(quiz: Quiz, student) -> None:
    if quiz.owner_id != student.pk:
        raise NotYours("This quiz belongs to another student.")
