"""Quiz questions from the openai provider: the real SDK against the fake OpenAI-compatible server,
as a provider call and inside create_quiz runs (validation, cache, usage, bad output, 429)."""

from __future__ import annotations


import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload, quiz_request
from studyapp.ai.errors import ProviderBadOutput
from studyapp.ai.models import ProviderResponse
from studyapp.ai.providers.openai_provider import OpenAIProvider
from studyapp.ai.schemas import Evidence, QuestionOut, QuestionType, QuizConcept, QuizInput
from studyapp.graphs.evidence import PageIndex
from studyapp.graphs.services import document_pages
from studyapp.quizzes.models import Quiz
from studyapp.quizzes.validation import Validator
from tests.ai.fake_openai import FakeOpenAI, malformed, status
from tests.jobs.helpers import drain, release_scheduled

REQUEST = QuizInput(
    types=[QuestionType.FILL_IN_BLANK, QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE],
    concepts=[QuizConcept(name="Osmosis", focus=True, pages=["1"]), QuizConcept(name="Diffusion", focus=True),
              QuizConcept(name="Mitosis"), QuizConcept(name="Photosynthesis"), QuizConcept(name="Meiosis")],
    passages=[Evidence(page="1", quote="Osmosis is the diffusion of water across a selectively permeable membrane."),
              Evidence(page="1", quote="Diffusion is the movement of molecules from high to low concentration."),
              Evidence(page="2", quote="Osmosis keeps plant cells firm when water flows in.")],
    language="en",
)


@pytest.fixture
def server():
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture
def provider(server):
    instance = OpenAIProvider("fake-model", base_url=server.base_url, api_key="sk-test-secret", timeout=5)
    yield instance
    instance.close()


def test_the_request_carries_the_material_and_the_answer_is_typed(server, provider):
    """Schema 'write_questions', the prompt layout of studyapp/ai/prompts.py, one question per type."""
    call = provider.write_questions(REQUEST)
    (request,) = server.chat_requests
    assert request.schema_name == "write_questions" and request.model == "fake-model"
    assert "Question types, in order: fill_in_blank, multiple_choice, true_false" in request.user_message
    assert "[page 2] Osmosis keeps plant cells firm when water flows in." in request.user_message
    assert [q.type for q in call.output.questions] == REQUEST.types
    blank, choice, truth = call.output.questions
    assert blank.prompt == "_____ is the diffusion of water across a selectively permeable membrane."
    assert choice.answer in choice.options and len(choice.options) == 4
    assert truth.answer == "True" and truth.quote == truth.prompt
    assert call.usage.prompt_tokens > 0 and call.usage.completion_tokens > 0


def test_almost_json_is_repaired_and_booleans_become_true_or_false(server, provider):
    """Trailing commas and a JSON boolean answer still give a usable question."""
    body = ('{"questions": [{"type": "true_false", "prompt": "Osmosis keeps plant cells firm when water flows in.", '
            '"options": [true, false], "answer": true, "accepted": [], "explanation": "p. 2", "page": 2, '
            '"quote": "Osmosis keeps plant cells firm when water flows in.", "concepts": ["Osmosis"],},]}')
    server.script(malformed(body))
    (question,) = provider.write_questions(REQUEST).output.questions
    assert (question.answer, question.page, question.options) == ("True", "2", ["True", "False"])


def test_unusable_output_twice_is_a_bad_output_error_with_the_tokens_spent(server, provider):
    """The answer and its one retry are garbage: ProviderBadOutput (transient), usage kept."""
    server.script(malformed("Sorry, no quiz today."), malformed("Still no JSON."))
    with pytest.raises(ProviderBadOutput) as excinfo:
        provider.write_questions(REQUEST)
    assert len(server.chat_requests) == 2 and excinfo.value.usage.prompt_tokens > 0


# --- inside create_quiz runs ------------------------------------------------------------------------


@pytest.fixture
def openai_settings(settings, server):
    settings.AI_PROVIDER, settings.OPENAI_BASE_URL = "openai", server.base_url
    settings.OPENAI_API_KEY, settings.OPENAI_MODEL, settings.AI_CONCURRENCY = "sk-test-secret", "fake-model", 2
    settings.PIPELINE_AUTO_QUIZ = False
    return settings


def graph_ready(owner, name="cell-biology"):
    from tests.quizzes.conftest import SAMPLE

    with SAMPLE.open("rb") as fh:
        document, _ = document_upload(owner=owner, upload=fh, filename=f"{name}.pdf")
    drain()
    assert JobRun.objects.get(kind="generate_graph").status == "succeeded"
    return document


def question_requests(server) -> list:
    return [r for r in server.chat_requests if r.schema_name == "write_questions"]


@pytest.mark.django_db(transaction=True)
def test_a_quiz_written_by_the_openai_provider_is_validated_cited_and_costed(alice, server, openai_settings):
    """Every saved question passes validation; the run's usage is the provider's token count."""
    document = graph_ready(alice)
    quiz, run = quiz_request(document=document, owner=alice, count=8)
    drain()
    run.refresh_from_db()
    quiz.refresh_from_db()
    assert run.status == "succeeded" and quiz.status == "ready", (run.error, quiz.stats)
    assert (quiz.provider, quiz.model) == ("openai", "fake-model")
    assert quiz.stats["saved"] == quiz.questions.count() > 0
    assert len(question_requests(server)) == quiz.stats["provider_calls"]
    assert run.usage["prompt_tokens"] == quiz.stats["prompt_tokens"] > 0
    index = PageIndex(document_pages(document))
    checker = Validator(index=index, language="en", types=set(QuestionType))
    for question in quiz.questions.all():
        out = QuestionOut(type=question.type, prompt=question.prompt, options=question.options, answer=question.answer,
                          accepted=question.accepted, page=question.page, quote=question.quote)
        assert checker.check(out)[1] is None, question.prompt


@pytest.mark.django_db(transaction=True)
def test_writing_the_same_quiz_again_costs_no_tokens(alice, server, openai_settings):
    """Asked again from scratch, the questions come from the response cache: zero provider calls."""
    document = graph_ready(alice)
    quiz, _ = quiz_request(document=document, owner=alice, count=5)
    drain()
    prompts = list(quiz.questions.values_list("prompt", flat=True))
    calls = len(question_requests(server))
    Quiz.objects.all().delete()
    again, run = quiz_request(document=document, owner=alice, count=5)
    drain()
    run.refresh_from_db()
    assert len(question_requests(server)) == calls
    assert run.usage == {"prompt_tokens": 0, "completion_tokens": 0}
    assert list(again.questions.values_list("prompt", flat=True)) == prompts
    assert ProviderResponse.objects.filter(operation="write_questions").count() == calls


@pytest.mark.django_db(transaction=True)
def test_an_unusable_batch_is_dropped_and_the_next_round_fills_the_quiz(alice, server, openai_settings):
    """Garbage for one call (and its retry): its questions count as dropped; round two writes them."""
    openai_settings.AI_CONCURRENCY = 1
    document = graph_ready(alice)
    server.script(malformed("no"), malformed("still no"))
    quiz, run = quiz_request(document=document, owner=alice, count=4)
    drain()
    quiz.refresh_from_db()
    assert quiz.status == "ready" and quiz.stats["failed_calls"] == 1
    assert quiz.stats["dropped_reasons"]["provider output unusable"] == 4
    assert quiz.stats["rounds"] == 2 and quiz.stats["saved"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_429_parks_the_quiz_run_without_spending_an_attempt(alice, server, openai_settings):
    """Rate limited: waiting, 0 attempts; back on the queue it succeeds in one attempt."""
    openai_settings.AI_CONCURRENCY = 1
    document = graph_ready(alice)
    server.script(status(429, headers={"Retry-After": "3"}))
    quiz, run = quiz_request(document=document, owner=alice, count=3)
    drain()
    run.refresh_from_db()
    assert (run.status, run.stage, run.attempts) == ("waiting", "waiting: rate limited", 0)
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert Quiz.objects.get(pk=quiz.pk).status == "ready"


@pytest.mark.django_db(transaction=True)
def test_a_rejected_key_fails_the_quiz_at_once(alice, server, openai_settings):
    """401 is permanent: one attempt, the quiz failed with the provider's reason (no key in it)."""
    document = graph_ready(alice)
    server.script(status(401))
    quiz, run = quiz_request(document=document, owner=alice, count=3)
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("failed", 1) and "rejected the API key" in run.operator_note
    assert "sk-test-secret" not in run.error
    assert Quiz.objects.get(pk=quiz.pk).status == "failed"
