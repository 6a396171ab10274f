"""Quizzes in the web UI through Django's test client on a real Redis: a document's quizzes and
asking for one (live progress, the same request twice), taking a quiz one question at a time and
all at once, grading with feedback, retrying missed questions, reviews due, and bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import JobRun
from studyapp.quizzes.models import Answer, Question, Quiz, QuizAttempt, ReviewCard
from studyapp.web.quizzes import shortfall_note
from tests.jobs.helpers import drain
from tests.web.helpers import SAMPLE, Html, processed_document, upload_bytes

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}
ALL_TYPES = ["multiple_choice", "true_false", "fill_in_blank", "short_answer"]


@pytest.fixture
def studied(alice, client):
    """Alice's processed sample document with its automatic quiz (10 questions), Alice logged in."""
    document, _graph = processed_document(alice)
    quiz = Quiz.objects.get(document=document)
    assert quiz.status == "ready" and quiz.questions.count() == 10
    client.force_login(alice)
    return document, quiz


def right(question: Question) -> str:
    return question.answer


def wrong(question: Question) -> str:
    if question.type == "multiple_choice":
        return next(option for option in question.options if option != question.answer)
    if question.type == "true_false":
        return "False" if question.answer == "True" else "True"
    return "something else entirely"


def questions(quiz: Quiz) -> list[Question]:
    return list(quiz.questions.order_by("position"))


def start(client, quiz: Quiz, mode: str) -> QuizAttempt:
    response = client.post(reverse("web:attempt_start", args=[quiz.pk]), {"mode": mode})
    attempt = QuizAttempt.objects.filter(quiz=quiz).order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == reverse("web:attempt", args=[attempt.pk])
    return attempt


def page(response) -> Html:
    return Html(response.content.decode())


# --- a document's quizzes -----------------------------------------------------------------------------


def test_the_document_page_shows_the_automatic_quiz_and_the_form_for_a_new_one(client, studied):
    """The quiz written after the graph is listed as ready with its questions; the form has
    labelled fields and its choices in fieldsets with legends."""
    document, quiz = studied
    html = client.get(reverse("web:document", args=[document.pk])).content.decode()
    shown = Html(html)
    card = shown.find("article", id=f"quiz-{quiz.pk}")[0]
    assert card["data-status"] == "ready" and "hx-trigger" not in card  # ready: no polling
    assert "10 questions" in shown.text and "All question types" in shown.text
    assert shown.find("a", href=reverse("web:quiz", args=[quiz.pk]))
    assert shown.find("label", **{"for": "quiz-count"}) and shown.find("input", id="quiz-count", value="10")
    assert html.count("<legend>") == 2 and "<legend>Difficulty</legend>" in html
    assert len(shown.find("input", type="checkbox", name="types")) == 4


def test_a_quiz_being_written_polls_its_card_until_it_is_ready(client, alice):
    """Right after the upload the automatic quiz waits for the graph; its card says so and polls;
    once the pipeline has run the same card answers ready, without a poll."""
    document, _run = upload_bytes(alice, SAMPLE.read_bytes())
    quiz = Quiz.objects.get(document=document)
    client.force_login(alice)
    shown = page(client.get(reverse("web:document", args=[document.pk])))
    card = shown.find("article", id=f"quiz-{quiz.pk}")[0]
    assert card["data-status"] == "queued" and card["hx-trigger"] == "every 1000ms"
    assert card["hx-get"] == reverse("web:quiz_card", args=[quiz.pk]) + "?on=document"
    assert "waiting for the concept graph" in shown.text
    drain()
    polled = page(client.get(card["hx-get"], headers=HTMX))
    card = polled.find("article", id=f"quiz-{quiz.pk}")[0]
    assert card["data-status"] == "ready" and "hx-trigger" not in card and "10 questions" in polled.text


def test_asking_for_a_quiz_starts_its_run_and_shows_its_progress_live(client, studied):
    """4 easy true/false and multiple-choice questions: a new quiz and create_quiz run; the answer
    shows its polling card and sends the pipeline again, live; after the run the card is ready."""
    document, auto = studied
    response = client.post(reverse("web:document_quizzes", args=[document.pk]),
                           {"count": "4", "difficulty": "easy", "types": ["true_false", "multiple_choice"]},
                           headers=HTMX)
    quiz = Quiz.objects.exclude(pk=auto.pk).get(document=document)
    assert (quiz.count, quiz.difficulty, quiz.types) == (4, "easy", ["multiple_choice", "true_false"])
    run = JobRun.objects.get(kind="create_quiz", subject_id=quiz.pk)
    assert run.status == "queued"
    shown = page(response)
    assert "Your quiz is being written" in shown.text
    card = shown.find("article", id=f"quiz-{quiz.pk}")[0]
    assert "is-highlighted" in card["class"] and card["hx-trigger"] == "every 1000ms"
    pipeline = shown.find("div", id=f"doc-live-{document.pk}")[0]
    assert pipeline["hx-swap-oob"] == "true" and pipeline["hx-trigger"] == "every 1000ms"
    assert shown.find("li", **{"data_run": str(run.pk)})
    drain()
    card = page(client.get(card["hx-get"], headers=HTMX)).find("article", id=f"quiz-{quiz.pk}")[0]
    assert card["data-status"] == "ready"
    assert set(quiz.questions.values_list("type", flat=True)) <= {"true_false", "multiple_choice"}


def test_the_same_request_twice_gives_the_same_quiz(client, studied):
    """Asking again for 5 hard short answers shows the first quiz; asking for the defaults shows
    the automatic one. No quiz or run is added."""
    document, auto = studied
    url = reverse("web:document_quizzes", args=[document.pk])
    options = {"count": "5", "difficulty": "hard", "types": ["short_answer"]}
    client.post(url, options, headers=HTMX)
    quiz = Quiz.objects.exclude(pk=auto.pk).get(document=document)
    again = page(client.post(url, options, headers=HTMX))
    assert Quiz.objects.filter(document=document).count() == 2
    assert JobRun.objects.filter(kind="create_quiz", subject_id=quiz.pk).count() == 1
    assert "You asked for this quiz before: it is the one being written below." in again.text
    assert "is-highlighted" in again.find("article", id=f"quiz-{quiz.pk}")[0]["class"]
    drain()
    defaults = {"count": "10", "difficulty": "medium", "types": ALL_TYPES}
    response = client.post(url, defaults)  # without JavaScript: back to the page, at the quiz
    assert response["Location"] == reverse("web:document", args=[document.pk]) + f"#quiz-{auto.pk}"
    shown = page(client.get(response["Location"]))
    assert "You asked for this quiz before: here it is" in shown.text
    assert Quiz.objects.filter(document=document).count() == 2
    assert JobRun.objects.filter(kind="create_quiz").count() == 2


@pytest.mark.parametrize("options, message", [
    ({"count": "0", "difficulty": "easy", "types": ["true_false"]}, "Ask for at least 1 question."),
    ({"count": "51", "difficulty": "easy", "types": ["true_false"]}, "A quiz has at most 50 questions."),
    ({"count": "ten", "difficulty": "easy", "types": ["true_false"]}, "Enter a whole number of questions."),
    ({"count": "5", "difficulty": "insane", "types": ["true_false"]}, "Choose easy, medium or hard."),
    ({"count": "5", "difficulty": "easy"}, "Choose at least one question type."),
    ({"count": "5", "difficulty": "easy", "types": ["essay"]}, "Choose question types from the list."),
])
def test_a_quiz_request_that_cannot_be_written_is_refused_with_the_reason(client, studied, options, message):
    """The form comes back with the reason next to its field (with HTMX and without); nothing is asked for."""
    document, _quiz = studied
    url = reverse("web:document_quizzes", args=[document.pk])
    for headers in (HTMX, {}):
        response = client.post(url, options, headers=headers)
        assert response.status_code == 200
        assert message in page(response).text
    assert Quiz.objects.filter(document=document).count() == 1
    assert JobRun.objects.filter(kind="create_quiz").count() == 1


def test_a_quiz_with_fewer_questions_than_asked_says_so_and_why(client, studied):
    """30 questions from three pages: the quiz has fewer, and the card says how many and why."""
    document, _auto = studied
    client.post(reverse("web:document_quizzes", args=[document.pk]),
                {"count": "30", "difficulty": "medium", "types": ALL_TYPES})
    drain()
    quiz = Quiz.objects.get(document=document, count=30)
    saved = quiz.stats["saved"]
    assert quiz.status == "ready" and 0 < saved < 30
    note = shortfall_note(quiz)
    assert note.startswith(f"You asked for 30 questions and got {saved}: ")
    assert "material for" in note or "dropped by the checks" in note
    for reason in quiz.stats["dropped_reasons"]:
        assert reason in note
    for url in (reverse("web:document", args=[document.pk]), reverse("web:quiz", args=[quiz.pk])):
        assert note in page(client.get(url)).text


def test_a_failed_quiz_says_why_and_can_be_asked_for_again(client, studied):
    """A quiz whose run was cancelled shows the reason and "Try again"; trying writes it."""
    from jobs.control import cancel_run

    document, _auto = studied
    client.post(reverse("web:document_quizzes", args=[document.pk]),
                {"count": "3", "difficulty": "easy", "types": ["fill_in_blank"]})
    quiz = Quiz.objects.get(document=document, count=3)
    cancel_run(JobRun.objects.get(kind="create_quiz", subject_id=quiz.pk))
    quiz.refresh_from_db()
    assert quiz.status == "failed"
    shown = page(client.get(reverse("web:quiz", args=[quiz.pk])))
    assert quiz.error in shown.text and shown.find("form", action=reverse("web:quiz_retry", args=[quiz.pk]))
    response = client.post(reverse("web:quiz_retry", args=[quiz.pk]), {"on": "page"}, headers=HTMX)
    card = page(response).find("article", id=f"quiz-{quiz.pk}")[0]
    assert card["data-status"] == "queued" and card["hx-trigger"]
    drain()
    quiz.refresh_from_db()
    assert quiz.status == "ready" and quiz.questions.count() == 3


# --- taking a quiz -----------------------------------------------------------------------------------


def test_every_question_type_is_rendered_with_its_own_labelled_control(client, studied):
    """All at once: choices are radio groups (fieldset, legend = the question, one radio per
    option); blanks and short answers are text fields whose label is the question."""
    _document, quiz = studied
    attempt = start(client, quiz, "all")
    html = client.get(reverse("web:attempt", args=[attempt.pk])).content.decode()
    shown = Html(html)
    assert {q.type for q in questions(quiz)} == set(ALL_TYPES)
    for question in questions(quiz):
        name = f"q-{question.pk}"
        if question.type in ("multiple_choice", "true_false"):
            radios = shown.find("input", type="radio", name=name)
            assert [r["value"] for r in radios] == question.options
            block = html[html.index(f'id="question-{question.position + 1}"'):]
            assert block.index("<fieldset") < block.index("<legend") < block.index(f'name="{name}"')
        else:
            field = shown.find("input", type="text", name=name)[0]
            assert shown.find("label", **{"for": field["id"]}), question.prompt
    assert shown.find("span", class_="blank")  # fill-in-the-blank prompts draw their blank


def test_one_question_at_a_time_grades_each_answer_with_feedback_and_moves_on(client, studied):
    """Question 1 of 10, answered right (HTMX: the panel is redrawn with the feedback); question 2
    answered wrong (without JavaScript: back to it, with the correct answer, explanation and the
    cited page); previous and next; finishing counts the rest as missed."""
    document, quiz = studied
    attempt = start(client, quiz, "one")
    first, second = questions(quiz)[:2]
    shown = page(client.get(reverse("web:attempt", args=[attempt.pk])))
    assert "Question 1 of 10" in shown.text and "0 answered" in shown.text
    assert shown.find("input", type="hidden", name="question", value=str(first.pk))

    answered = client.post(reverse("web:attempt_answer", args=[attempt.pk]),
                           {"question": first.pk, "response": right(first), "time_ms": "4200"}, headers=HTMX)
    assert answered["HX-Push-Url"] == reverse("web:attempt", args=[attempt.pk]) + "?q=1"  # a reload shows it again
    panel = page(answered)
    assert panel.find("div", id="attempt-panel") and not panel.find("html")  # the panel alone
    assert "Right" in panel.text and first.explanation in panel.text and "1 answered" in panel.text
    assert panel.find("a", rel="next", href=reverse("web:attempt", args=[attempt.pk]) + "?q=2")
    answer = attempt.answers.get(question=first)
    assert answer.correct is True and answer.time_ms == 4200

    response = client.post(reverse("web:attempt_answer", args=[attempt.pk]),
                           {"question": second.pk, "response": wrong(second)})
    assert response["Location"] == reverse("web:attempt", args=[attempt.pk]) + "?q=2"
    shown = page(client.get(response["Location"]))
    assert "Question 2 of 10" in shown.text and "Not right" in shown.text
    assert second.answer in shown.text and second.explanation in shown.text and second.quote in shown.text
    link = reverse("web:page_by_label", args=[document.pk]) + f"?label={second.page}"
    assert shown.find("a", href=link) and f"p. {second.page}" in shown.text
    assert shown.find("a", rel="prev", href=reverse("web:attempt", args=[attempt.pk]) + "?q=1")
    assert "8 questions not answered yet" in shown.text

    response = client.post(reverse("web:attempt_finish", args=[attempt.pk]))
    assert response["Location"] == reverse("web:attempt_result", args=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.is_finished and (attempt.correct, attempt.total) == (1, 10)


def test_all_at_once_grades_every_answer_and_shows_the_score_with_feedback(client, studied):
    """One form: odd questions right (typed ones with a typo, forgiven), even ones wrong; the
    result has the score and, per question, the verdict, correct answer, explanation and quote."""
    document, quiz = studied
    attempt = start(client, quiz, "all")
    data = {}
    typo = None
    for question in questions(quiz):
        if question.position % 2 == 0:
            response = right(question)
            if question.type in ("fill_in_blank", "short_answer") and len(question.answer) >= 6 and typo is None:
                typo, response = question, question.answer.upper()[:-1] + question.answer[-1].upper() * 2
        else:
            response = wrong(question)
        data[f"q-{question.pk}"] = response
    response = client.post(reverse("web:attempt_submit", args=[attempt.pk]), data)
    assert response["Location"] == reverse("web:attempt_result", args=[attempt.pk])
    shown = page(client.get(response["Location"]))
    assert "5 of 10 right (50%)" in shown.text
    verdicts = [item["data-correct"] for item in shown.find("div") if "data-correct" in item]
    assert verdicts == ["1", "0"] * 5
    for question in questions(quiz):
        assert question.explanation in shown.text and question.quote in shown.text
        assert shown.find("a", href=reverse("web:page_by_label", args=[document.pk]) + f"?label={question.page}")
    assert typo is not None and "Accepted despite a small spelling difference" in shown.text
    assert shown.find("button", type="submit") and "Retry the 5 missed questions" in shown.text
    assert shown.find("tr", **{"data_attempt": str(attempt.pk)})  # the attempt in the list, with its date
    assert "5/10" in shown.text


def test_missing_answers_are_pointed_out_and_can_be_submitted_anyway(client, studied):
    """Two questions left empty: the form comes back saying which, keeping the other answers; "Submit
    anyway" grades what was given and counts the empty ones as missed."""
    _document, quiz = studied
    attempt = start(client, quiz, "all")
    data = {f"q-{q.pk}": right(q) for q in questions(quiz)}
    skipped = questions(quiz)[3:5]
    for question in skipped:
        data[f"q-{question.pk}"] = "  "
    response = client.post(reverse("web:attempt_submit", args=[attempt.pk]), data)
    assert response.status_code == 200
    shown = page(response)
    assert "2 questions have no answer yet:" in shown.text
    assert shown.find("a", href="#question-4") and shown.find("a", href="#question-5")
    assert shown.text.count("No answer yet.") == 2
    kept = questions(quiz)[0]
    if kept.type in ("multiple_choice", "true_false"):
        assert shown.find("input", name=f"q-{kept.pk}", value=kept.answer, checked="")
    else:
        assert shown.find("input", name=f"q-{kept.pk}", value=kept.answer)
    attempt.refresh_from_db()
    assert not attempt.is_finished and not attempt.answers.filter(answered_at__isnull=False).exists()

    response = client.post(reverse("web:attempt_submit", args=[attempt.pk]), {**data, "allow_blank": "1"})
    assert response["Location"] == reverse("web:attempt_result", args=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.is_finished and attempt.correct == 8
    result = page(client.get(response["Location"]))
    assert result.text.count("Not answered") == 2 and "Retry the 2 missed questions" in result.text


def test_an_option_that_is_not_one_is_refused_and_not_graded(client, studied):
    """A tampered choice is not a wrong answer: the form says to choose an option, nothing is
    graded and no review is scheduled (one at a time and all at once)."""
    _document, quiz = studied
    choice = next(q for q in questions(quiz) if q.type == "multiple_choice")
    attempt = start(client, quiz, "one")
    for headers in (HTMX, {}):
        response = client.post(reverse("web:attempt_answer", args=[attempt.pk]),
                               {"question": choice.pk, "response": "Banana"}, headers=headers)
        assert response.status_code == 200
        assert "That is not one of the options: choose one of them." in page(response).text
    empty = client.post(reverse("web:attempt_answer", args=[attempt.pk]), {"question": choice.pk}, headers=HTMX)
    assert "Choose one of the options." in page(empty).text
    assert not Answer.objects.filter(attempt=attempt, answered_at__isnull=False).exists()
    assert not ReviewCard.objects.exists()

    whole = start(client, quiz, "all")
    data = {f"q-{q.pk}": right(q) for q in questions(quiz)}
    data[f"q-{choice.pk}"] = "Banana"
    response = client.post(reverse("web:attempt_submit", args=[whole.pk]), data)
    assert response.status_code == 200 and "Some answers cannot be graded" in page(response).text
    whole.refresh_from_db()
    assert not whole.is_finished


def test_a_finished_attempt_cannot_be_answered_again(client, studied):
    """After submitting, a resent answer or form leads to the result with a clear message; the
    grades stay as they were."""
    _document, quiz = studied
    attempt = start(client, quiz, "all")
    first = questions(quiz)[0]
    data = {f"q-{q.pk}": wrong(q) for q in questions(quiz)}
    client.post(reverse("web:attempt_submit", args=[attempt.pk]), data)
    result_url = reverse("web:attempt_result", args=[attempt.pk])

    again = client.post(reverse("web:attempt_submit", args=[attempt.pk]), {f"q-{first.pk}": right(first)},
                        follow=True)
    assert again.redirect_chain == [(result_url, 302)]
    assert "This attempt has already been submitted" in page(again).text
    polled = client.post(reverse("web:attempt_answer", args=[attempt.pk]),
                         {"question": first.pk, "response": right(first)}, headers=HTMX)
    assert polled.status_code == 200 and polled["HX-Redirect"] == result_url
    assert client.get(reverse("web:attempt", args=[attempt.pk]))["Location"] == result_url
    assert client.post(reverse("web:attempt_finish", args=[attempt.pk]))["Location"] == result_url
    attempt.refresh_from_db()
    assert attempt.correct == 0 and attempt.answers.get(question=first).correct is False


def test_retrying_missed_questions_asks_only_those(client, studied):
    """Three missed: "retry" starts an attempt with those three; all right leaves nothing to retry."""
    _document, quiz = studied
    attempt = start(client, quiz, "all")
    missed = questions(quiz)[:3]
    data = {f"q-{q.pk}": (wrong(q) if q in missed else right(q)) for q in questions(quiz)}
    client.post(reverse("web:attempt_submit", args=[attempt.pk]), data)
    response = client.post(reverse("web:attempt_retry", args=[attempt.pk]), {"mode": "one"})
    retry = QuizAttempt.objects.get(kind="retry")
    assert response["Location"] == reverse("web:attempt", args=[retry.pk])
    assert retry.retry_of == attempt and [a.question for a in retry.answers.order_by("position")] == missed
    shown = page(client.get(response["Location"]))
    assert "Question 1 of 3" in shown.text and "Retry of missed questions" in shown.text
    for question in missed:
        client.post(reverse("web:attempt_answer", args=[retry.pk]), {"question": question.pk, "response": right(question)})
    client.post(reverse("web:attempt_finish", args=[retry.pk]))
    result = page(client.get(reverse("web:attempt_result", args=[retry.pk])))
    assert "3 of 3 right" in result.text and "Every question right." in result.text and "Retry the" not in result.text
    nothing = client.post(reverse("web:attempt_retry", args=[retry.pk]), follow=True)
    assert "You got every question right: there is nothing to retry." in page(nothing).text
    assert QuizAttempt.objects.filter(kind="retry").count() == 1


def test_a_result_before_the_end_sends_the_student_back_to_the_questions(client, studied):
    _document, quiz = studied
    attempt = start(client, quiz, "one")
    response = client.get(reverse("web:attempt_result", args=[attempt.pk]), follow=True)
    assert response.redirect_chain == [(reverse("web:attempt", args=[attempt.pk]), 302)]
    assert "This attempt is not finished yet" in page(response).text


def test_the_chosen_mode_is_remembered_and_can_be_switched(client, studied):
    """Started all at once, the next attempt page opens all at once; ?mode=one switches it back."""
    _document, quiz = studied
    attempt = start(client, quiz, "all")
    url = reverse("web:attempt", args=[attempt.pk])
    assert page(client.get(url)).find("form", action=reverse("web:attempt_submit", args=[attempt.pk]))
    one = page(client.get(url + "?mode=one"))
    assert one.find("div", id="attempt-panel") and one.find("a", **{"data_mode_link": "all"})
    assert page(client.get(url)).find("div", id="attempt-panel")
    quiz_page = page(client.get(reverse("web:quiz", args=[quiz.pk])))
    assert quiz_page.find("input", type="radio", name="mode", value="one", checked="")


# --- reviews --------------------------------------------------------------------------------------------


def missed_two(client, quiz: Quiz) -> list[Question]:
    """Take the quiz with two questions wrong; make their reviews due now (not in 10 minutes, which
    near midnight would be tomorrow)."""
    attempt = start(client, quiz, "all")
    missed = questions(quiz)[1:3]
    data = {f"q-{q.pk}": (wrong(q) if q in missed else right(q)) for q in questions(quiz)}
    client.post(reverse("web:attempt_submit", args=[attempt.pk]), data)
    assert ReviewCard.objects.count() == 2
    ReviewCard.objects.update(due=timezone.now())
    return missed


def test_the_quizzes_page_lists_quizzes_and_what_is_due_with_a_count_in_the_nav(client, studied):
    """Two missed questions are due: the nav says 2, the page lists them and starts their review;
    the review is taken and graded like a quiz."""
    document, quiz = studied
    before = page(client.get(reverse("web:quizzes")))
    assert "Nothing is due for review today." in before.text and not before.with_attr("data-due-count")
    missed = missed_two(client, quiz)
    shown = page(client.get(reverse("web:quizzes")))
    assert shown.find("span", **{"data_due_count": "2"}) and "2 due for review today" in shown.text
    assert shown.find("a", href=reverse("web:quizzes"), aria_current="page")
    for question in missed:
        assert shown.find("li", **{"data_question": str(question.pk)})
    assert shown.find("article", id=f"quiz-{quiz.pk}") and document.title in shown.text
    assert "Start the review (2 questions)" in shown.text

    response = client.post(reverse("web:review_start"))
    review = QuizAttempt.objects.get(kind="review")
    assert response["Location"] == reverse("web:attempt", args=[review.pk])
    assert sorted(a.question_id for a in review.answers.all()) == sorted(q.pk for q in missed)
    assert "Review of questions due today" in page(client.get(response["Location"])).text
    client.post(reverse("web:attempt_submit", args=[review.pk]), {f"q-{q.pk}": right(q) for q in missed})
    result = page(client.get(reverse("web:attempt_result", args=[review.pk])))
    assert "2 of 2 right" in result.text and "Your reviews" in result.text
    # Answered right, they are due again in days, not today.
    assert not page(client.get(reverse("web:quizzes"))).with_attr("data-due-count")


def test_a_document_s_due_questions_can_be_reviewed_from_its_page(client, studied):
    document, quiz = studied
    missed_two(client, quiz)
    shown = page(client.get(reverse("web:document", args=[document.pk])))
    assert "2 questions from this document are due for review today." in shown.text
    response = client.post(reverse("web:review_start"), {"document": document.pk})
    review = QuizAttempt.objects.get(kind="review")
    assert response["Location"] == reverse("web:attempt", args=[review.pk]) and review.total == 2


def test_starting_a_review_with_nothing_due_says_so(client, studied):
    response = client.post(reverse("web:review_start"), follow=True)
    assert "Nothing is due for review today." in page(response).text
    assert not QuizAttempt.objects.exists()


def test_a_document_that_could_not_be_read_has_no_quiz_to_ask_for(client, alice):
    """A blank PDF: its automatic quiz failed with the reason, offers no retry, and the page has no
    form for another; asking anyway (a stale page) says why."""
    from tests.fixtures import make_pdfs

    document, _run = upload_bytes(alice, make_pdfs.blank_pdf(1), "blank.pdf")
    drain()
    quiz = Quiz.objects.get(document=document)
    assert quiz.status == "failed"
    client.force_login(alice)
    shown = page(client.get(reverse("web:document", args=[document.pk])))
    card = shown.find("article", id=f"quiz-{quiz.pk}")[0]
    assert card["data-status"] == "failed" and quiz.error in shown.text
    assert not shown.find("form", action=reverse("web:quiz_retry", args=[quiz.pk]))
    assert not shown.find("form", action=reverse("web:document_quizzes", args=[document.pk]))
    retried = page(client.post(reverse("web:quiz_retry", args=[quiz.pk]), headers=HTMX))
    assert "This document could not be processed, so no quiz can be written from it" in retried.text
    response = client.post(reverse("web:document_quizzes", args=[document.pk]),
                           {"count": "3", "difficulty": "easy", "types": ["true_false"]}, headers=HTMX)
    assert "This document could not be processed" in page(response).text
    assert Quiz.objects.count() == 1


def test_odd_ids_and_parameters_are_answered_without_an_error(client, studied):
    """Huge or malformed ids and parameters: a 404 or the page, never a server error."""
    _document, quiz = studied
    attempt = start(client, quiz, "one")
    huge = "9" * 30
    answer_url = reverse("web:attempt_answer", args=[attempt.pk])
    checks = [
        (client.get(reverse("web:attempt", args=[attempt.pk]) + f"?q={huge}&mode=nonsense"), 200),
        (client.get(reverse("web:attempt", args=[attempt.pk]) + "?q=-3"), 200),
        (client.post(answer_url, {"question": huge, "response": "x"}), 404),
        (client.post(answer_url, {"question": "", "response": "x"}), 404),
        (client.post(reverse("web:review_start"), {"document": huge}), 404),
        (client.get(f"/quizzes/{huge}/"), 404),
        (client.get(f"/attempts/{huge}/result/"), 404),
        (client.get(f"/documents/{huge}/quizzes/"), 404),
        (client.post(reverse("web:attempt_start", args=[quiz.pk]), {"mode": "sideways"}), 302),
    ]
    for response, status in checks:
        assert response.status_code == status, (response.request["PATH_INFO"], response.status_code)
    long = client.post(answer_url, {"question": questions(quiz)[2].pk, "response": "x" * 600}, headers=HTMX)
    assert "Keep your answer under 500 characters." in page(long).text
