"""Quizzes in the admin: lists and pages render, nothing generated can be added or edited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studyapp.ai.providers import get_provider
from studyapp.quizzes import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_call_at_a_time(settings):
    settings.AI_CONCURRENCY = 1


def test_quiz_pages_render_read_only(admin_client, cell_graph):
    """Quiz list with got/asked, a quiz with its questions, attempts and review cards; no add, no save."""
    document, _ = cell_graph
    quiz, _ = services.quiz_create(document=document, owner=document.owner, count=4, provider="local", model="local-1")
    services.quiz_generate(quiz=quiz, provider=get_provider("local"))
    question = quiz.questions.first()
    attempt = services.attempt_start(quiz=quiz, student=document.owner)
    services.attempt_submit(attempt=attempt, responses={question.pk: "not the answer"})
    listing = admin_client.get(reverse("admin:quizzes_quiz_changelist"))
    assert listing.status_code == 200 and "4/4" in listing.content.decode()
    page = admin_client.get(reverse("admin:quizzes_quiz_change", args=[quiz.pk]))
    assert page.status_code == 200 and question.quote[:40] in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    for name, pk in (("question", question.pk), ("quizattempt", attempt.pk),
                     ("reviewcard", document.owner.review_cards.get().pk)):
        assert admin_client.get(reverse(f"admin:quizzes_{name}_change", args=[pk])).status_code == 200
    assert admin_client.get(reverse("admin:quizzes_quiz_add")).status_code == 403
