"""The quiz endpoints through ninja's TestClient: real services, real Redis, an in-process worker.

The `processed` document (tests/api/conftest.py) already has its quiz: an upload asks for one with
the default options, written after the graph.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from jobs.models import JobRun
from studyapp.quizzes.models import Question, Quiz, QuizAttempt, ReviewCard
from tests.api.conftest import bearer, upload
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION_FIELDS = {"id", "position", "type", "prompt", "options"}


def ready_quiz(document) -> Quiz:
    quiz = Quiz.objects.get(document=document)
    assert quiz.status == "ready" and quiz.questions.count() >= 4, (quiz.status, quiz.error)
    return quiz


def wrong(question: Question) -> str:
    if question.type == "multiple_choice":
        return next(option for option in question.options if option != question.answer)
    if question.type == "true_false":
        return "False" if question.answer == "True" else "True"
    return "something else entirely"


def test_a_quiz_is_written_by_its_job_and_the_same_request_is_the_same_quiz(client_api, processed, alice_key):
    """202 with the quiz and its create_quiz job; asked again: the same quiz and job; once written, 200 ready."""
    body = {"document_id": processed.pk, "count": 3, "difficulty": "easy", "types": ["true_false", "multiple_choice"]}
    first = client_api.post("/quizzes", json=body, headers=bearer(alice_key))
    assert first.status_code == 202, first.content
    pending = first.json()
    quiz, job = pending["quiz"], pending["job"]
    assert pending["status"] == "pending" and quiz["status"] == "queued" and quiz["questions"] == []
    assert (quiz["count"], quiz["difficulty"], quiz["types"]) == (3, "easy", ["multiple_choice", "true_false"])
    assert job["kind"] == "create_quiz" and job["subject"] == {"type": "quiz", "id": quiz["id"]}
    assert quiz["job"]["id"] == job["id"]
    again = client_api.post("/quizzes", json={**body, "types": ["multiple_choice", "true_false"]},
                            headers=bearer(alice_key)).json()
    assert (again["quiz"]["id"], again["job"]["id"]) == (quiz["id"], job["id"])
    drain()
    ready = client_api.post("/quizzes", json=body, headers=bearer(alice_key))
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["job"] is None
    written = client_api.get(f"/quizzes/{quiz['id']}", headers=bearer(alice_key)).json()
    assert written["status"] == "ready" and written["job"]["status"] == "succeeded"
    assert 1 <= len(written["questions"]) == written["question_count"] <= 3
    assert {q["type"] for q in written["questions"]} <= {"multiple_choice", "true_false"}
    assert Quiz.objects.filter(owner__username="alice").count() == 2  # this one and the upload's own
    listed = client_api.get(f"/quizzes?document_id={processed.pk}", headers=bearer(alice_key)).json()
    assert [q["id"] for q in listed["items"]] == [quiz["id"], Quiz.objects.exclude(pk=quiz["id"]).get().pk]


def test_a_quiz_is_shown_without_its_answers(client_api, processed, alice_key):
    """GET /quizzes/{id}: each question's prompt, type and options, in order; no answer, explanation or quote."""
    quiz = ready_quiz(processed)
    body = client_api.get(f"/quizzes/{quiz.pk}", headers=bearer(alice_key)).json()
    assert [q["id"] for q in body["questions"]] == list(quiz.questions.order_by("position").values_list("pk", flat=True))
    for shown in body["questions"]:
        assert set(shown) == QUESTION_FIELDS
        question = Question.objects.get(pk=shown["id"])
        assert (shown["prompt"], shown["options"]) == (question.prompt, question.options)
        if question.type in ("fill_in_blank", "short_answer"):
            assert question.answer.lower() not in shown["prompt"].lower()


def test_answering_a_quiz_gives_the_graded_result_with_the_cited_pages(client_api, processed, alice_key):
    """Right, wrong and left out: per question correct or not, the correct answer, explanation, cited page and
    quote; the score; the wrong and the left-out ones are missed. The attempt can be read back, not resubmitted."""
    quiz = ready_quiz(processed)
    questions = list(quiz.questions.order_by("position"))
    right, missed, left_out = questions[:2], questions[2], questions[3:]
    answers = [{"question_id": q.pk, "response": q.answer, "time_ms": 1500} for q in right]
    answers.append({"question_id": missed.pk, "response": wrong(missed)})
    response = client_api.post(f"/quizzes/{quiz.pk}/attempts", json={"answers": answers}, headers=bearer(alice_key))
    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["total"], result["answered"], result["correct"], result["finished"]) == (len(questions), 3, 2, True)
    assert result["score"] == 2.0 and result["percent"] == round(200 / len(questions), 1)
    assert result["missed_question_ids"] == [missed.pk] + [q.pk for q in left_out]
    labels = set(processed.pages.values_list("label", flat=True))
    for feedback, question in zip(result["feedback"], right + [missed]):
        assert feedback["question_id"] == question.pk and feedback["correct"] is (question in right)
        assert (feedback["correct_answer"], feedback["explanation"]) == (question.answer, question.explanation)
        assert feedback["citation"] == {"page": question.page, "quote": question.quote}
        assert feedback["citation"]["page"] in labels
    attempt = QuizAttempt.objects.get()
    assert list(attempt.answers.filter(time_ms=1500).values_list("question_id", flat=True)) == [q.pk for q in right]
    read = client_api.get(f"/attempts/{result['attempt_id']}", headers=bearer(alice_key)).json()
    assert read["finished"] and read["result"] == result
    assert all(set(q) == QUESTION_FIELDS | {"answered"} for q in read["questions"])
    again = client_api.post(f"/attempts/{attempt.pk}/submit", json={"answers": []}, headers=bearer(alice_key))
    assert again.status_code == 409 and again.json()["code"] == "attempt_finished"
    listed = client_api.get(f"/attempts?quiz_id={quiz.pk}", headers=bearer(alice_key)).json()
    assert [(a["id"], a["correct"], a["kind"]) for a in listed["items"]] == [(attempt.pk, 2, "quiz")]


def test_missed_questions_can_be_retried_and_come_back_for_review(client_api, processed, alice_key):
    """retry-missed asks exactly the missed questions; they are due for review; a review attempt is answered
    through /submit; with nothing missed or due any more, both are a 409 that says why."""
    quiz = ready_quiz(processed)
    questions = list(quiz.questions.order_by("position"))
    missed = questions[:2]
    answers = [{"question_id": q.pk, "response": wrong(q) if q in missed else q.answer} for q in questions]
    attempt_id = client_api.post(f"/quizzes/{quiz.pk}/attempts", json={"answers": answers},
                                 headers=bearer(alice_key)).json()["attempt_id"]
    retry = client_api.post(f"/attempts/{attempt_id}/retry-missed", headers=bearer(alice_key))
    assert retry.status_code == 201
    assert retry.json()["kind"] == "retry" and retry.json()["retry_of_id"] == attempt_id
    assert [q["id"] for q in retry.json()["questions"]] == [q.pk for q in missed]

    ReviewCard.objects.update(due=timezone.now())  # FSRS has them due in ten minutes: let them be due now
    due = client_api.get(f"/reviews?document_id={processed.pk}", headers=bearer(alice_key)).json()
    assert [r["question"]["id"] for r in due["items"]] == [q.pk for q in missed]
    assert due["items"][0]["quiz_id"] == quiz.pk and due["items"][0]["document_title"] == processed.title
    assert set(due["items"][0]["question"]) == QUESTION_FIELDS and due["items"][0]["lapses"] == 1
    review = client_api.post("/reviews", json={"limit": 5}, headers=bearer(alice_key))
    assert review.status_code == 201 and review.json()["kind"] == "review" and review.json()["total"] == 2
    graded = client_api.post(f"/attempts/{review.json()['id']}/submit",
                             json={"answers": [{"question_id": q.pk, "response": q.answer} for q in missed]},
                             headers=bearer(alice_key))
    assert graded.status_code == 200 and graded.json()["correct"] == 2 and graded.json()["missed_question_ids"] == []
    nothing_due = client_api.post("/reviews", json={}, headers=bearer(alice_key))
    assert nothing_due.status_code == 409 and nothing_due.json() == {
        "code": "nothing_to_review", "message": "Nothing is due for review today."}
    all_right = client_api.post(f"/attempts/{review.json()['id']}/retry-missed", headers=bearer(alice_key))
    assert all_right.status_code == 409 and "nothing to retry" in all_right.json()["message"]


def test_quiz_requests_and_answers_that_cannot_work_say_why(client_api, alice, alice_key):
    """A quiz still being written: 409; a failed document: 409; bad options: 400 validation; an answer to a
    question outside the quiz or the same question twice: 400, and no attempt is left behind."""
    document = upload(alice)
    quiz = Quiz.objects.get(document=document)  # the upload's own, queued behind extraction and graph
    response = client_api.post(f"/quizzes/{quiz.pk}/attempts", json={}, headers=bearer(alice_key))
    assert response.status_code == 409 and response.json()["code"] == "quiz_not_ready"
    for bad in ({"count": 0}, {"count": 51}, {"count": True}, {"count": "3"}, {"difficulty": "extreme"},
                {"types": ["essay"]}, {"types": []}, {"colour": "red"}):
        refused = client_api.post("/quizzes", json={"document_id": document.pk, **bad}, headers=bearer(alice_key))
        assert refused.status_code == 400 and refused.json()["code"] == "validation_error", bad
    drain()
    quiz.refresh_from_db()
    question = quiz.questions.first()
    for answers in ([{"question_id": 10**9, "response": "x"}],
                    [{"question_id": question.pk, "response": "x"}, {"question_id": question.pk, "response": "y"}]):
        refused = client_api.post(f"/quizzes/{quiz.pk}/attempts", json={"answers": answers}, headers=bearer(alice_key))
        assert refused.status_code == 400 and refused.json()["code"] == "quiz_error", refused.content
    assert not QuizAttempt.objects.exists()

    locked = upload(alice, "libreoffice-writer-password.pdf")
    drain()
    failed = client_api.post("/quizzes", json={"document_id": locked.pk}, headers=bearer(alice_key))
    assert failed.status_code == 409 and failed.json()["code"] == "document_failed"
    assert "password" in failed.json()["message"]
    assert client_api.get("/quizzes/999999", headers=bearer(alice_key)).status_code == 404
    assert client_api.post("/quizzes", json={"document_id": 999999}, headers=bearer(alice_key)).status_code == 404
    assert JobRun.objects.filter(kind="create_quiz").count() == 2  # the two uploads' own
