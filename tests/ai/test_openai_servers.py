"""The openai provider against the OpenAI-compatible servers people run: the structured-output mode
negotiated per endpoint, malformed requests rejected with the server's reason, answers bounded by
max_tokens (a cut-off answer is a failed call), system instructions folded for templates that drop
them, and every spent token counted. Real SDK, fake server on loopback."""

from __future__ import annotations

import pytest

from studyapp.ai.cache import CachedProvider
from studyapp.ai.errors import ProviderBadOutput, ProviderRejected, ProviderTruncated, ProviderUnavailable
from studyapp.ai.models import KnownEndpoint, ProviderResponse
from studyapp.ai.providers import get_provider
from studyapp.ai.providers.endpoint_memory import DatabaseMemory
from studyapp.ai.providers.openai_provider import OpenAIProvider
from studyapp.ai.providers.output_modes import PROCESS_MEMORY, ProcessMemory
from studyapp.ai.schemas import ChunkInput, ConceptInput, Segment
from tests.ai.fake_openai import FakeOpenAI, malformed, ok, status

CHUNK = ChunkInput(segments=[
    Segment(page="3", text="The Krebs Cycle is part of Cellular Respiration. It runs in the Mitochondria."),
])
LLAMA_REFUSAL = "Input should be 'text' or 'json_object'"


@pytest.fixture(autouse=True)
def fresh_process_memory():
    PROCESS_MEMORY.forget_all()
    yield
    PROCESS_MEMORY.forget_all()


@pytest.fixture
def llama():
    server = FakeOpenAI.like_llama_cpp().start()
    yield server
    server.stop()


def make(server: FakeOpenAI, **kwargs) -> OpenAIProvider:
    kwargs.setdefault("memory", ProcessMemory())
    return OpenAIProvider("small-model", base_url=server.base_url, api_key="sk-test-secret", timeout=5, **kwargs)


# --- the output mode ---------------------------------------------------------------------------

def test_json_schema_is_asked_first_and_kept_where_the_server_takes_it(fake_openai):
    provider = make(fake_openai)
    provider.extract_concepts(CHUNK)
    provider.describe_concept(ConceptInput(name="Krebs Cycle"))
    assert [r.output_mode for r in fake_openai.chat_requests] == ["json_schema", "json_schema"]
    assert "JSON schema" not in fake_openai.chat_requests[0].messages[0]["content"]  # the server enforces it


def test_a_server_that_refuses_json_schema_with_a_500_gets_json_object_with_the_schema(llama):
    """llama-cpp-python: 500 + pydantic message for json_schema; json_object with a schema works."""
    provider = make(llama, fold_system=True)

    call = provider.extract_concepts(CHUNK)

    assert [c.name for c in call.output.concepts][:2] == ["Krebs Cycle", "Cellular Respiration"]
    first, second = llama.chat_requests
    assert (first.output_mode, second.output_mode) == ("json_schema", "json_object_schema")
    assert second.body["response_format"]["schema"]["properties"].keys() == {"concepts", "relations"}
    assert "The JSON object must follow this JSON schema" in second.messages[0]["content"]

    provider.extract_concepts(ChunkInput(segments=[Segment(page="4", text="Osmosis Moves Water.")]))
    assert llama.chat_requests[2].output_mode == "json_object_schema", "the endpoint's mode is remembered"


def test_the_ladder_goes_down_to_bare_json_object_and_then_to_plain_instructions():
    strict_object = FakeOpenAI(formats=frozenset({"json_object", "text"})).start()
    text_only = FakeOpenAI(formats=frozenset({"text"})).start()
    try:
        assert make(strict_object).extract_concepts(CHUNK).output.concepts
        assert [r.output_mode for r in strict_object.chat_requests] == [
            "json_schema", "json_object_schema", "json_object"]

        assert make(text_only).extract_concepts(CHUNK).output.concepts
        assert [r.output_mode for r in text_only.chat_requests] == [
            "json_schema", "json_object_schema", "json_object", "text"]
        plain = text_only.chat_requests[-1]
        assert "response_format" not in plain.body
        assert "The JSON object must follow this JSON schema" in plain.messages[0]["content"]
    finally:
        strict_object.stop()
        text_only.stop()


def test_a_forced_mode_is_not_negotiated_and_its_refusal_names_the_server_reason(llama):
    provider = make(llama, output_mode="json_schema")

    with pytest.raises(ProviderRejected) as caught:
        provider.extract_concepts(CHUNK)

    assert LLAMA_REFUSAL in str(caught.value) and "OPENAI_OUTPUT_MODE=json_schema" in str(caught.value)
    assert len(llama.chat_requests) == 1


def test_a_forced_mode_is_sent_from_the_first_request(llama):
    make(llama, output_mode="json_object", fold_system=True).extract_concepts(CHUNK)
    assert [r.output_mode for r in llama.chat_requests] == ["json_object"]


@pytest.mark.django_db
def test_the_database_remembers_the_mode_for_every_worker(llama):
    make(llama, memory=DatabaseMemory(), fold_system=True).extract_concepts(CHUNK)
    assert KnownEndpoint.objects.get().output_mode == "json_object_schema"

    # Another provider (another worker, another job) starts where the first one ended.
    make(llama, memory=DatabaseMemory(), fold_system=True).describe_concept(ConceptInput(name="Osmosis"))
    assert [r.output_mode for r in llama.chat_requests] == ["json_schema", "json_object_schema", "json_object_schema"]


# --- malformed requests are not outages ----------------------------------------------------------

@pytest.mark.parametrize("code", [500, 422, 400])
def test_a_request_the_server_calls_malformed_is_rejected_at_once_with_its_reason(fake_openai, code):
    reason = "1 validation error for CreateChatCompletionRequest messages Field required"
    fake_openai.script(status(code, body={"error": {"message": reason, "type": "internal_server_error"}}))

    with pytest.raises(ProviderRejected) as caught:
        make(fake_openai).extract_concepts(CHUNK)

    assert f"(HTTP {code}): {reason}" in str(caught.value)
    assert len(fake_openai.chat_requests) == 1


def test_a_500_that_is_an_outage_stays_transient_and_keeps_its_reason(fake_openai):
    fake_openai.script(status(500, body={"error": {"message": "CUDA out of memory, try again", "type": "server_error"}}))

    with pytest.raises(ProviderUnavailable, match=r"failed \(HTTP 500\): CUDA out of memory"):
        make(fake_openai).extract_concepts(CHUNK)


def test_a_server_that_wants_max_completion_tokens_gets_it(fake_openai):
    fake_openai.script(status(400, body={"error": {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
                   "Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens"}}))
    provider = make(fake_openai, max_output_tokens=900)

    provider.extract_concepts(CHUNK)
    provider.extract_concepts(CHUNK)

    first, second, third = fake_openai.chat_requests
    assert first.body["max_tokens"] == 900 and "max_completion_tokens" not in first.body
    assert second.body["max_completion_tokens"] == 900 and "max_tokens" not in second.body
    assert third.body["max_completion_tokens"] == 900


# --- max_tokens and cut-off answers --------------------------------------------------------------

def test_every_request_is_bounded_by_max_tokens(fake_openai):
    make(fake_openai, max_output_tokens=1234).extract_concepts(CHUNK)
    make(fake_openai).extract_concepts(CHUNK)
    assert [r.max_tokens for r in fake_openai.chat_requests] == [1234, 4096]


@pytest.mark.django_db
def test_an_answer_cut_off_at_the_limit_is_a_failed_call_that_is_never_cached_but_is_counted(fake_openai):
    provider = CachedProvider(make(fake_openai, max_output_tokens=20))
    cached_before = ProviderResponse.objects.count()

    with pytest.raises(ProviderTruncated) as caught:
        provider.extract_concepts(CHUNK)

    assert isinstance(caught.value, ProviderBadOutput)  # a chunk's failure, not the whole build's
    assert "cut off at the output limit of 20 tokens" in str(caught.value)
    assert len(fake_openai.chat_requests) == 1, "a cut-off answer is not asked again: it would be cut again"
    assert ProviderResponse.objects.count() == cached_before
    assert provider.spent.completion_tokens == 20 and provider.spent.prompt_tokens > 0


@pytest.mark.django_db
def test_tokens_of_answers_that_do_not_parse_are_counted_too(fake_openai):
    fake_openai.script(malformed("no JSON here", usage={"prompt_tokens": 100, "completion_tokens": 7}),
                       malformed("still none", usage={"prompt_tokens": 110, "completion_tokens": 8}),
                       ok({"description": "Water moving across a membrane."},
                          usage={"prompt_tokens": 50, "completion_tokens": 5}))
    provider = CachedProvider(make(fake_openai))

    with pytest.raises(ProviderBadOutput):
        provider.describe_concept(ConceptInput(name="Osmosis"))
    provider.describe_concept(ConceptInput(name="Osmosis"))
    provider.describe_concept(ConceptInput(name="Osmosis"))  # cached: free

    assert (provider.spent.prompt_tokens, provider.spent.completion_tokens) == (260, 20)


# --- system instructions ---------------------------------------------------------------------------

def test_a_server_that_drops_the_system_role_sees_the_instructions_only_when_folded(llama):
    with pytest.raises(ProviderBadOutput):
        make(llama, output_mode="json_object").extract_concepts(CHUNK)  # the model never saw what to do

    llama.reset()
    call = make(llama, output_mode="json_object", fold_system=True).extract_concepts(CHUNK)

    assert call.output.concepts
    (request,) = llama.chat_requests
    assert [m["role"] for m in request.messages] == ["user"]
    assert request.messages[0]["content"].startswith("You are an experienced tutor")
    assert "[page 3]\nThe Krebs Cycle" in request.messages[0]["content"]


def test_the_fold_setting_is_read_at_construction(fake_openai, settings):
    settings.OPENAI_FOLD_SYSTEM = True
    make(fake_openai).describe_concept(ConceptInput(name="Osmosis"))
    assert [m["role"] for m in fake_openai.chat_requests[0].messages] == ["user"]


@pytest.mark.django_db
def test_get_provider_passes_the_policy_limit_and_the_shared_memory(fake_openai, settings):
    settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = fake_openai.base_url, "sk-test"
    provider = get_provider("openai", "m", max_output_tokens=777)
    assert provider.inner.max_output_tokens == 777
    assert isinstance(provider.inner._negotiation.memory, DatabaseMemory)
