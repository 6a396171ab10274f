"""Who may see what of quizzes: another student's quiz, attempt, review or question is a 404 on every
route (and nothing changes); anonymous visitors are sent to the web login."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import JobRun
from studyapp.quizzes import services
from studyapp.quizzes.models import Answer, Quiz, QuizAttempt, ReviewCard
from tests.web.helpers import processed_document

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bobs_quiz_things(bob):
    """Bob's document and automatic quiz, an attempt in progress, a finished one with missed
    questions (so he has reviews due) and a review in progress."""
    document, _graph = processed_document(bob)
    quiz = Quiz.objects.get(document=document)
    questions = list(quiz.questions.order_by("position"))
    open_attempt = services.attempt_start(quiz=quiz, student=bob)
    finished = services.attempt_start(quiz=quiz, student=bob)
    services.attempt_submit(attempt=finished, responses={q.pk: "wrong on purpose" for q in questions})
    ReviewCard.objects.filter(student=bob).update(due=timezone.now())
    review = services.review_start(student=bob)
    return {"document": document, "quiz": quiz, "question": questions[0], "attempt": open_attempt,
            "finished": finished, "review": review}


def quiz_routes(things) -> list[tuple[str, str, dict]]:
    """(method, url, data) for every route that names a quiz, an attempt or a document's quizzes."""
    d, q, question = things["document"].pk, things["quiz"].pk, things["question"]
    routes = [
        ("get", reverse("web:document_quizzes", args=[d]), {}),
        ("post", reverse("web:document_quizzes", args=[d]), {"count": "3", "difficulty": "easy", "types": ["true_false"]}),
        ("get", reverse("web:quiz", args=[q]), {}),
        ("get", reverse("web:quiz_card", args=[q]), {}),
        ("post", reverse("web:quiz_retry", args=[q]), {}),
        ("post", reverse("web:attempt_start", args=[q]), {"mode": "one"}),
        ("post", reverse("web:review_start"), {"document": d}),
    ]
    for key in ("attempt", "finished", "review"):
        a = things[key].pk
        routes += [
            ("get", reverse("web:attempt", args=[a]), {}),
            ("get", reverse("web:attempt", args=[a]) + "?mode=all&q=2", {}),
            ("post", reverse("web:attempt_answer", args=[a]), {"question": question.pk, "response": question.answer}),
            ("post", reverse("web:attempt_submit", args=[a]), {f"q-{question.pk}": question.answer}),
            ("post", reverse("web:attempt_finish", args=[a]), {}),
            ("get", reverse("web:attempt_result", args=[a]), {}),
            ("post", reverse("web:attempt_retry", args=[a]), {}),
        ]
    return routes


def snapshot() -> tuple:
    return (sorted(QuizAttempt.objects.values_list("pk", "finished_at", "correct")),
            sorted(Answer.objects.values_list("pk", "answered_at", "response")),
            sorted(ReviewCard.objects.values_list("pk", "due", "reps")),
            Quiz.objects.count(), JobRun.objects.count())


def test_every_quiz_route_answers_404_for_another_student_s_objects(client, alice, bobs_quiz_things):
    """Alice reaches none of Bob's quizzes, attempts or reviews, by any route, and changes nothing."""
    client.force_login(alice)
    before = snapshot()
    for method, url, data in quiz_routes(bobs_quiz_things):
        for headers in ({}, {"HX-Request": "true"}):
            response = getattr(client, method)(url, data, headers=headers)
            assert response.status_code == 404, (method, url, headers, response.status_code)
    assert snapshot() == before


def test_another_student_s_question_in_one_s_own_attempt_is_404(client, alice, bobs_quiz_things):
    """Alice's attempt with Bob's question id: not found, not graded; in the all-at-once form the
    foreign field is ignored."""
    document, _graph = processed_document(alice)
    attempt = services.attempt_start(quiz=Quiz.objects.get(document=document), student=alice)
    bobs_question = bobs_quiz_things["question"]
    client.force_login(alice)
    response = client.post(reverse("web:attempt_answer", args=[attempt.pk]),
                           {"question": bobs_question.pk, "response": bobs_question.answer})
    assert response.status_code == 404
    response = client.post(reverse("web:attempt_answer", args=[attempt.pk]), {"question": "x", "response": "y"})
    assert response.status_code == 404
    response = client.post(reverse("web:attempt_submit", args=[attempt.pk]),
                           {f"q-{bobs_question.pk}": bobs_question.answer, "allow_blank": "1"})
    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.is_finished and attempt.correct == 0
    assert not Answer.objects.filter(attempt=attempt, question=bobs_question).exists()


def test_the_quiz_lists_show_only_the_student_s_own(client, alice, bobs_quiz_things):
    """Bob's quiz, due questions and their count appear neither on Alice's quizzes page nor in her nav."""
    client.force_login(alice)
    body = client.get(reverse("web:quizzes")).content.decode()
    assert bobs_quiz_things["document"].title not in body and bobs_quiz_things["question"].prompt not in body
    assert "Nothing is due for review today." in body and "data-due-count" not in body
    response = client.post(reverse("web:review_start"), follow=True)
    assert "Nothing is due for review today." in response.content.decode()
    assert not QuizAttempt.objects.filter(student=alice).exists()


def test_anonymous_visitors_are_sent_to_the_web_login(client, bobs_quiz_things):
    """Every quiz page redirects to /login/?next=...; an HTMX request gets HX-Redirect; posts change nothing."""
    before = snapshot()
    routes = [("get", reverse("web:quizzes"), {})] + quiz_routes(bobs_quiz_things)
    for method, url, data in routes:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("web:login") + "?next="), url
        polled = getattr(client, method)(url, data, headers={"HX-Request": "true",
                                                             "HX-Current-URL": "http://testserver/quizzes/"})
        assert polled.status_code == 200 and polled["HX-Redirect"] == "/login/?next=%2Fquizzes%2F", url
    assert snapshot() == before
