"""Quizzes: a document's quizzes and asking for one, the quizzes page with what is due for review,
taking an attempt (one question at a time or all at once), its result, retrying missed questions.

Every quiz and attempt is looked up through the quiz selectors' owner/student gate: another
student's quiz, attempt or question is a 404. Grading is the domain's (services.answer_submit and
attempt_submit); these views only refuse input that cannot be graded, with a sentence saying why.
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url

from jobs.pipelines import quiz_request
from studyapp.documents.models import Document
from studyapp.quizzes import selectors, services
from studyapp.quizzes.errors import AttemptFinished, NothingToReview, QuizError
from studyapp.quizzes.models import Quiz, QuizAttempt
from studyapp.web.forms import QuizRequestForm
from studyapp.web.quizzes import (
    DEFAULT_MODE, MODE_SESSION_KEY, MODES, attempt_questions, attempt_title, checked_response, past_attempts,
    quiz_card, quiz_cards, read_all_at_once, result_feedback, time_ms_from,
)
from studyapp.web.views.common import own_document, parse_id, student_required
from studyapp.web.views.library import document_state

DUE_LISTED = 20


def own_quiz(request: HttpRequest, quiz_id: int) -> Quiz:
    try:
        if parse_id(quiz_id) is None:
            raise Quiz.DoesNotExist
        return selectors.quiz_for_owner(owner=request.user, quiz_id=quiz_id)
    except Quiz.DoesNotExist:
        raise Http404("no such quiz") from None


def own_attempt(request: HttpRequest, attempt_id: int) -> QuizAttempt:
    try:
        if parse_id(attempt_id) is None:
            raise QuizAttempt.DoesNotExist
        return selectors.attempt_for_student(student=request.user, attempt_id=attempt_id)
    except QuizAttempt.DoesNotExist:
        raise Http404("no such attempt") from None


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """Leave for another page: a plain redirect, or the whole browser for an HTMX request."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- the quizzes page ---------------------------------------------------------------------------


@require_GET
@student_required
def quiz_list(request: HttpRequest) -> HttpResponse:
    """All the student's quizzes by document, and the questions due for review today."""
    due = selectors.reviews_due(student=request.user)
    quizzes = list(selectors.quizzes_for_owner(owner=request.user).order_by("document__title", "document_id",
                                                                             "-created_at"))
    groups: dict[int, dict] = {}
    for card in quiz_cards(quizzes, student=request.user):
        groups.setdefault(card.quiz.document_id, {"document": card.quiz.document, "cards": []})["cards"].append(card)
    due_count = due.count()
    return render(request, "web/quizzes.html", {
        "nav": "quizzes", "due_count": due_count, "due": list(due[:DUE_LISTED]), "due_listed": DUE_LISTED,
        "due_more": max(0, due_count - DUE_LISTED), "now": timezone.now(),
        "groups": list(groups.values()), "quiz_count": len(quizzes),
    })


@require_POST
@student_required
def review_start(request: HttpRequest) -> HttpResponse:
    """An attempt with the questions due today (of one document, if the form names it)."""
    document_id = request.POST.get("document", "")
    document = own_document(request, document_id) if document_id else None
    try:
        attempt = services.review_start(student=request.user, document=document)
    except NothingToReview as exc:
        messages.info(request, exc.message)
        return redirect("web:quizzes")
    return redirect("web:attempt", attempt.pk)


# --- a document's quizzes -------------------------------------------------------------------------


def quiz_section_context(request: HttpRequest, document: Document, *, form: QuizRequestForm | None = None,
                         notice: str = "", highlight: int | None = None) -> dict:
    """The document page's quiz section: the quiz cards, the form for a new quiz, reviews due."""
    quizzes = selectors.quizzes_for_owner(owner=request.user, document=document)
    return {
        "quiz_cards": quiz_cards(quizzes, student=request.user),
        "quiz_form": form or QuizRequestForm(),
        "quiz_notice": notice,
        "quiz_highlight": highlight,
        "quiz_due": selectors.review_due_count(student=request.user, document=document),
        "quiz_possible": document.status != Document.Status.FAILED,
        "quiz_auto": settings.PIPELINE_AUTO_QUIZ,
    }


@require_http_methods(["GET", "POST"])
@student_required
def document_quizzes(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the quiz section alone. POST: ask for a quiz (count, difficulty, types)."""
    document = own_document(request, pk)
    if request.method == "POST":
        return _request_quiz(request, document)
    return render(request, "web/partials/quiz_section.html",
                  {"document": document, **quiz_section_context(request, document)})


def _request_quiz(request: HttpRequest, document: Document) -> HttpResponse:
    form = QuizRequestForm(request.POST)
    quiz = None
    notice = ""
    if form.is_valid():
        known = set(selectors.quizzes_for_owner(owner=request.user, document=document).values_list("pk", flat=True))
        try:
            quiz, _run = quiz_request(document=document, owner=request.user, count=form.cleaned_data["count"],
                                      difficulty=form.cleaned_data["difficulty"], types=form.cleaned_data["types"])
        except QuizError as exc:
            form.add_error(None, exc.message)
        else:
            notice = _request_notice(quiz, asked_before=quiz.pk in known)
    if not request.htmx:
        return _request_quiz_page(request, document, form, quiz, notice)
    # The form keeps what was asked (asking again is then the same request: the same quiz).
    context = {"document": document, **quiz_section_context(request, document, form=form, notice=notice,
                                                            highlight=quiz and quiz.pk)}
    # The pipeline at the top of the page shows the new run too: send it again, live (out of band).
    context["pipeline_state"] = document_state(document)
    return render(request, "web/partials/quiz_section.html", context)


def _request_notice(quiz: Quiz, *, asked_before: bool) -> str:
    if not asked_before:
        return "Your quiz is being written: follow its progress below."
    if quiz.status == Quiz.Status.READY:
        return "You asked for this quiz before: here it is (the same request gives the same quiz)."
    return "You asked for this quiz before: it is the one being written below."


def _request_quiz_page(request: HttpRequest, document: Document, form: QuizRequestForm, quiz: Quiz | None,
                       notice: str) -> HttpResponse:
    """Without JavaScript: back to the document page, or the page again with the form's errors."""
    from studyapp.web.views.documents import render_document  # documents imports this module

    if quiz is not None:
        messages.success(request, notice)
        return redirect(f"{reverse('web:document', args=[document.pk])}#quiz-{quiz.pk}")
    return render_document(request, document, quiz_context=quiz_section_context(request, document, form=form))


@require_GET
@student_required
def quiz_card_view(request: HttpRequest, quiz_id: int) -> HttpResponse:
    """One quiz card, polled while its quiz is being written."""
    quiz = own_quiz(request, quiz_id)
    return render(request, "web/partials/quiz_card.html", {
        "card": quiz_card(quiz, student=request.user), "on": _card_place(request.GET.get("on")),
        "modes": MODES, "mode": _mode(request)})


@require_POST
@student_required
def quiz_retry(request: HttpRequest, quiz_id: int) -> HttpResponse:
    """A quiz whose writing failed, asked for again: the same quiz, written once more."""
    quiz = own_quiz(request, quiz_id)
    refused = ""
    try:
        quiz_request(document=quiz.document, owner=request.user, count=quiz.count, difficulty=quiz.difficulty,
                     types=quiz.types)
    except QuizError as exc:  # e.g. its document could not be read
        refused = exc.message
    quiz.refresh_from_db()
    if request.htmx:
        return render(request, "web/partials/quiz_card.html", {
            "card": quiz_card(quiz, student=request.user), "on": _card_place(request.POST.get("on")),
            "modes": MODES, "mode": _mode(request), "refused": refused})
    if refused:
        messages.error(request, refused)
    return redirect("web:quiz", quiz.pk)


def _card_place(on: str | None) -> str:
    return on if on in ("document", "list", "page") else "document"


# --- one quiz -------------------------------------------------------------------------------------


@require_GET
@student_required
def quiz_detail(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = own_quiz(request, quiz_id)
    attempts = list(selectors.attempts_for_student(student=request.user, quiz=quiz)[:20])
    return render(request, "web/quiz.html", {
        "quiz": quiz, "document": quiz.document, "card": quiz_card(quiz, student=request.user), "on": "page",
        "attempts": attempts, "modes": MODES, "mode": _mode(request), "nav": "quizzes",
    })


def _mode(request: HttpRequest) -> str:
    mode = request.session.get(MODE_SESSION_KEY)
    return mode if mode in MODES else DEFAULT_MODE


def _remember_mode(request: HttpRequest, mode: str | None) -> str:
    if mode in MODES:
        request.session[MODE_SESSION_KEY] = mode
        return mode
    return _mode(request)


@require_POST
@student_required
def attempt_start(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = own_quiz(request, quiz_id)
    _remember_mode(request, request.POST.get("mode"))
    try:
        attempt = services.attempt_start(quiz=quiz, student=request.user)
    except QuizError as exc:  # not ready yet, or writing it failed
        messages.info(request, exc.message)
        return redirect("web:quiz", quiz.pk)
    return redirect("web:attempt", attempt.pk)


# --- taking an attempt ----------------------------------------------------------------------------


@require_GET
@student_required
def attempt_take(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The attempt in the chosen mode: `?mode=one|all` (remembered), `?q=N` for question N."""
    attempt = own_attempt(request, attempt_id)
    if attempt.is_finished:
        return redirect("web:attempt_result", attempt.pk)
    mode = _remember_mode(request, request.GET.get("mode"))
    if mode == "all":
        return _all_at_once_page(request, attempt)
    return _one_at_a_time(request, attempt, _position_from(request.GET.get("q")))


def _position_from(raw: str | None) -> int | None:
    """`?q=3` -> position 2; anything else: the first unanswered question."""
    return int(raw) - 1 if raw and raw.isdigit() and int(raw) >= 1 else None


def _one_at_a_time(request: HttpRequest, attempt: QuizAttempt, position: int | None, *, given: str = "",
                   error: str = "") -> HttpResponse:
    questions = attempt_questions(attempt)
    if not questions:  # nothing to ask (a quiz is never empty, but be sure): the result says so
        services.attempt_finish(attempt=attempt)
        return _go(request, reverse("web:attempt_result", args=[attempt.pk]))
    if position is None:
        position = next((q.view.position for q in questions if not q.answered), len(questions) - 1)
    position = max(0, min(position, len(questions) - 1))
    current = questions[position]
    if error:
        questions[position] = current = replace(current, given=given, error=error)
    answered = sum(q.answered for q in questions)
    context = {
        "attempt": attempt, "title": attempt_title(attempt), "questions": questions, "current": current,
        "answered": answered, "unanswered": len(questions) - answered, "mode": "one", "modes": MODES,
        "previous": position if position > 0 else None,  # 1-based numbers of the neighbours
        "next": position + 2 if position + 1 < len(questions) else None, "nav": "quizzes",
    }
    template = "web/partials/attempt_panel.html" if request.htmx else "web/attempt.html"
    return render(request, template, context)


@require_POST
@student_required
def attempt_answer(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """One answer (one-at-a-time mode): graded at once; the panel then shows its feedback."""
    attempt = own_attempt(request, attempt_id)
    question_id = parse_id(request.POST.get("question", ""))
    answer = attempt.answers.filter(question_id=question_id).first() if question_id is not None else None
    if answer is None:
        raise Http404("that question is not part of this attempt")
    if attempt.is_finished:
        return _already_submitted(request, attempt)
    view = next(q for q in selectors.attempt_questions(attempt=attempt) if q.id == answer.question_id)
    response, error = checked_response(view, request.POST.get("response"))
    if error:
        return _one_at_a_time(request, attempt, answer.position, given=response, error=error)
    try:
        services.answer_submit(attempt=attempt, question_id=answer.question_id, response=response,
                               time_ms=time_ms_from(request.POST.get("time_ms")))
    except AttemptFinished:  # finished by another tab a moment ago
        return _already_submitted(request, attempt)
    here = f"{reverse('web:attempt', args=[attempt.pk])}?q={answer.position + 1}"
    if request.htmx:
        return push_url(_one_at_a_time(request, attempt, answer.position), here)  # a reload shows this feedback
    return redirect(here)


def _already_submitted(request: HttpRequest, attempt: QuizAttempt) -> HttpResponse:
    messages.info(request, "This attempt has already been submitted, so its answers can no longer change. "
                           "Here is its result; start a new attempt to answer again.")
    return _go(request, reverse("web:attempt_result", args=[attempt.pk]))


def _all_at_once_page(request: HttpRequest, attempt: QuizAttempt, *, checked=None, with_missing: bool = False,
                      status: int = 200) -> HttpResponse:
    given = checked.given if checked else {}
    errors = checked.shown_errors(with_missing=with_missing) if checked else {}
    questions = attempt_questions(attempt, given=given, errors=errors)
    answered = sum(q.answered for q in questions)
    return render(request, "web/attempt.html", {
        "attempt": attempt, "title": attempt_title(attempt), "questions": questions, "mode": "all", "modes": MODES,
        "answered": answered, "unanswered": len(questions) - answered, "checked": checked,
        "invalid": bool(checked and checked.errors), "missing": list(checked.missing.values()) if with_missing else [],
        "nav": "quizzes",
    }, status=status)


@require_POST
@student_required
def attempt_submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """All at once: every answer graded, the attempt finished, the result shown.

    Empty answers are pointed out first; "Submit anyway" (allow_blank) counts them as missed.
    """
    attempt = own_attempt(request, attempt_id)
    if attempt.is_finished:
        return _already_submitted(request, attempt)
    checked = read_all_at_once(attempt_questions(attempt), request.POST)
    allow_blank = request.POST.get("allow_blank") == "1"
    if checked.errors or (checked.missing and not allow_blank):
        return _all_at_once_page(request, attempt, checked=checked, with_missing=not allow_blank)
    try:
        services.attempt_submit(attempt=attempt, responses=checked.responses)
    except AttemptFinished:
        return _already_submitted(request, attempt)
    return redirect("web:attempt_result", attempt.pk)


@require_POST
@student_required
def attempt_finish(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """End a one-at-a-time attempt (unanswered questions count as missed) and show the result."""
    attempt = own_attempt(request, attempt_id)
    services.attempt_finish(attempt=attempt)  # idempotent: a second click shows the same result
    return _go(request, reverse("web:attempt_result", args=[attempt.pk]))


# --- the result -----------------------------------------------------------------------------------


@require_GET
@student_required
def attempt_result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = own_attempt(request, attempt_id)
    if not attempt.is_finished:
        messages.info(request, "This attempt is not finished yet: answer its questions, then see your score.")
        return redirect("web:attempt", attempt.pk)
    result = selectors.attempt_result(attempt=attempt)
    return render(request, "web/attempt_result.html", {
        "attempt": attempt, "title": attempt_title(attempt), "result": result, "rows": result_feedback(attempt),
        "missed": len(result.missed_question_ids), "past": past_attempts(attempt), "modes": MODES,
        "mode": _mode(request), "nav": "quizzes",
    })


@require_POST
@student_required
def attempt_retry(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """A new attempt with the questions this one missed."""
    attempt = own_attempt(request, attempt_id)
    _remember_mode(request, request.POST.get("mode"))
    try:
        retry = services.attempt_retry_missed(attempt=attempt)
    except NothingToReview as exc:
        messages.info(request, exc.message)
        return redirect("web:attempt_result", attempt.pk)
    return redirect("web:attempt", retry.pk)
