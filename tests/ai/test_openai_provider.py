"""The `openai` provider through the real openai SDK, against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import email.utils
import json
import threading
import time

import pytest

from studyapp.ai.errors import ProviderBadOutput, ProviderRateLimited, ProviderRejected, ProviderUnavailable
from studyapp.ai.providers.openai_provider import OpenAIProvider, parse_output, retry_after_seconds
from studyapp.ai.schemas import (
    ChunkConcepts, ChunkInput, ConceptDescription, ConceptInput, Evidence, ExplainInput, ExplanationOut,
    PathStep, RelationType, Segment,
)
from studyapp.core.errors import PermanentError, RateLimited, TransientError
from tests.ai.fake_openai import disconnect, malformed, ok, raw, slow, status
from tests.conftest import free_port

API_KEY = "sk-test-SECRET-0123456789abcdef"
MODEL = "test-model-1"

CHUNK = ChunkInput(segments=[
    Segment(page="12", text="The Krebs Cycle is part of Cellular Respiration. It runs in the Mitochondria."),
    Segment(page="13", text="Deoxyribonucleic Acid (DNA) stores genes. Photosynthesis causes Oxygen release."),
])

GOOD = {
    "concepts": [
        {"name": "Krebs cycle", "aliases": ["citric acid cycle"], "description": "A cycle of reactions.",
         "importance": 0.9, "pages": ["12"]},
        {"name": "cellular respiration", "aliases": [], "description": "How cells get energy.",
         "importance": 0.8, "pages": ["12"]},
    ],
    "relations": [
        {"source": "Krebs cycle", "target": "cellular respiration", "type": "part_of",
         "description": "is a stage of", "page": "12",
         "quote": "The Krebs Cycle is part of Cellular Respiration."},
    ],
}


@pytest.fixture
def provider(fake_openai):
    instance = OpenAIProvider(MODEL, base_url=fake_openai.base_url, api_key=API_KEY, timeout=5)
    yield instance
    instance.close()


def test_normal_answer_is_parsed_with_usage(fake_openai, provider):
    fake_openai.script(ok(GOOD, usage={"prompt_tokens": 321, "completion_tokens": 54, "total_tokens": 375}))

    call = provider.extract_concepts(CHUNK)

    assert isinstance(call.output, ChunkConcepts)
    assert [c.name for c in call.output.concepts] == ["Krebs cycle", "cellular respiration"]
    assert call.output.concepts[0].aliases == ["citric acid cycle"]
    assert call.output.relations[0].type is RelationType.PART_OF
    assert call.output.relations[0].page == "12"
    assert (call.usage.prompt_tokens, call.usage.completion_tokens) == (321, 54)
    assert call.cached is False
    assert len(fake_openai.requests) == 1


def test_missing_usage_counts_as_zero(fake_openai, provider):
    fake_openai.script(ok({"description": "A short description."}, usage={}))

    call = provider.describe_concept(ConceptInput(name="Osmosis"))

    assert call.output.description == "A short description."
    assert (call.usage.prompt_tokens, call.usage.completion_tokens) == (0, 0)


def test_request_uses_base_url_model_schema_and_key(fake_openai, provider):
    provider.extract_concepts(CHUNK)

    (request,) = fake_openai.requests
    assert request.method == "POST" and request.path == "/v1/chat/completions"
    assert request.model == MODEL
    assert request.has_authorization and API_KEY not in json.dumps(request.headers)
    assert request.headers["x-stainless-retry-count"] == "0"
    body = request.body
    assert body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "extract_concepts"
    assert body["response_format"]["json_schema"]["strict"] is False
    schema = body["response_format"]["json_schema"]["schema"]
    assert set(schema["properties"]) == {"concepts", "relations"}
    assert "pages" in schema["$defs"]["ConceptOut"]["required"]
    assert schema["$defs"]["RelationType"]["enum"] == [kind.value for kind in RelationType]
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    assert "[page 12]\nThe Krebs Cycle is part of Cellular Respiration." in user
    assert "at most 15 concepts" in user
    for kind in RelationType:
        assert kind.value in body["messages"][0]["content"]


def test_settings_are_read_at_construction(fake_openai, settings):
    settings.OPENAI_BASE_URL = fake_openai.base_url
    settings.OPENAI_MODEL = "model-from-settings"
    settings.OPENAI_API_KEY = ""
    provider = OpenAIProvider()

    provider.describe_concept(ConceptInput(name="Osmosis"))

    assert provider.model == "model-from-settings"
    assert fake_openai.requests[0].model == "model-from-settings"
    assert fake_openai.requests[0].has_authorization  # the "not-set" placeholder key


def test_echo_answers_every_operation(fake_openai, provider):
    concepts = provider.extract_concepts(CHUNK).output
    names = [c.name for c in concepts.concepts]
    assert names[:3] == ["Krebs Cycle", "Cellular Respiration", "Mitochondria"]
    dna = next(c for c in concepts.concepts if c.name == "Deoxyribonucleic Acid")
    assert dna.aliases == ["DNA"] and dna.pages == ["13"]
    part_of = concepts.relations[0]
    assert (part_of.source, part_of.target, part_of.type) == ("Krebs Cycle", "Cellular Respiration",
                                                              RelationType.PART_OF)
    assert part_of.quote in CHUNK.segments[0].text  # verbatim

    description = provider.describe_concept(
        ConceptInput(name="Osmosis", evidence=[Evidence(page="4", quote="Osmosis moves water.")])).output
    assert isinstance(description, ConceptDescription) and "Osmosis" in description.description

    explanation = provider.explain_connection(ExplainInput(
        source="Krebs Cycle", target="Cellular Respiration",
        path=[PathStep(source="Krebs Cycle", type=RelationType.PART_OF, target="Cellular Respiration", page="12")],
        passages=[Evidence(page="12", quote="The Krebs Cycle is part of Cellular Respiration.")],
    )).output
    assert isinstance(explanation, ExplanationOut) and "(p. 12)" in explanation.text
    assert explanation.citations[0].page == "12"
    assert [r.schema_name for r in fake_openai.requests] == ["extract_concepts", "describe_concept",
                                                             "explain_connection"]


# --- timeouts and connection errors --------------------------------------------------------------

def test_slow_answer_times_out_without_sdk_retries(fake_openai):
    fake_openai.script(slow(3))
    provider = OpenAIProvider(MODEL, base_url=fake_openai.base_url, api_key=API_KEY, timeout=0.5)

    with pytest.raises(ProviderUnavailable) as caught:
        provider.extract_concepts(CHUNK)

    assert "timed out after 0.5 s" in str(caught.value)
    assert isinstance(caught.value, TransientError)
    assert len(fake_openai.requests) == 1  # the SDK did not retry


def test_unreachable_server_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    provider = OpenAIProvider(MODEL, base_url=url, api_key=API_KEY, timeout=2)

    with pytest.raises(ProviderUnavailable) as caught:
        provider.describe_concept(ConceptInput(name="Osmosis"))

    assert str(caught.value) == f"cannot reach the AI provider at {url}"


def test_dropped_connection_is_unavailable(fake_openai, provider):
    fake_openai.script(disconnect())

    with pytest.raises(ProviderUnavailable, match="cannot reach the AI provider"):
        provider.extract_concepts(CHUNK)
    assert len(fake_openai.requests) == 1


def test_credentials_in_base_url_are_not_shown():
    url = f"http://user:hunter2@127.0.0.1:{free_port()}/v1?token=abc"
    provider = OpenAIProvider(MODEL, base_url=url, api_key=API_KEY, timeout=2)

    with pytest.raises(ProviderUnavailable) as caught:
        provider.describe_concept(ConceptInput(name="Osmosis"))

    assert "hunter2" not in str(caught.value) and "token" not in str(caught.value)
    assert "hunter2" not in repr(provider)


@pytest.mark.parametrize("behaviour", [raw("<html><body>Welcome to the proxy</body></html>"),
                                       raw("{half a json", content_type="application/json"),
                                       raw("", content_type="application/json")])
def test_a_body_that_is_not_a_chat_completion_is_unavailable(fake_openai, provider, behaviour):
    fake_openai.script(behaviour)

    with pytest.raises(ProviderUnavailable, match="not a chat completion"):
        provider.extract_concepts(CHUNK)
    assert len(fake_openai.requests) == 1


# --- rate limits and server errors ---------------------------------------------------------------

def test_429_with_retry_after_seconds(fake_openai, provider):
    fake_openai.script(status(429, headers={"Retry-After": "7"}))

    with pytest.raises(ProviderRateLimited) as caught:
        provider.extract_concepts(CHUNK)

    assert caught.value.retry_after == 7
    assert isinstance(caught.value, RateLimited)
    assert "HTTP 429" in str(caught.value)
    assert len(fake_openai.requests) == 1


def test_429_with_retry_after_http_date(fake_openai, provider):
    when = email.utils.formatdate(time.time() + 8, usegmt=True)
    fake_openai.script(status(429, headers={"Retry-After": when}))

    with pytest.raises(ProviderRateLimited) as caught:
        provider.extract_concepts(CHUNK)

    assert 6 <= caught.value.retry_after <= 8


def test_429_with_retry_after_ms(fake_openai, provider):
    fake_openai.script(status(429, headers={"retry-after-ms": "1500"}))

    with pytest.raises(ProviderRateLimited) as caught:
        provider.extract_concepts(CHUNK)

    assert caught.value.retry_after == 1.5


def test_429_without_header_waits_10_s(fake_openai, provider):
    fake_openai.script(status(429))

    with pytest.raises(ProviderRateLimited) as caught:
        provider.extract_concepts(CHUNK)

    assert caught.value.retry_after == 10


def test_429_out_of_quota_is_permanent(fake_openai, provider):
    fake_openai.script(status(429, body={"error": {
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}}))

    with pytest.raises(ProviderRejected) as caught:
        provider.extract_concepts(CHUNK)
    assert "run out of quota" in caught.value.operator_detail


def test_500_is_unavailable_then_the_next_call_succeeds(fake_openai, provider):
    fake_openai.script(status(500))

    with pytest.raises(ProviderUnavailable) as caught:
        provider.extract_concepts(CHUNK)
    assert str(caught.value) == ("the AI provider failed (HTTP 500): The server had an error while processing "
                                 "your request. Sorry about that!")
    assert caught.value.retry_after is None
    assert len(fake_openai.requests) == 1

    call = provider.extract_concepts(CHUNK)
    assert call.output.concepts
    assert len(fake_openai.requests) == 2


def test_503_carries_retry_after(fake_openai, provider):
    fake_openai.script(status(503, headers={"Retry-After": "30"}))

    with pytest.raises(ProviderUnavailable) as caught:
        provider.extract_concepts(CHUNK)

    assert "HTTP 503" in str(caught.value)
    assert caught.value.retry_after == 30


# --- rejected requests ---------------------------------------------------------------------------

def test_401_names_the_key_problem_without_the_key(fake_openai, provider):
    fake_openai.script(status(401, body={"error": {
        "message": f"Incorrect API key provided: {API_KEY}.", "type": "invalid_request_error",
        "param": None, "code": "invalid_api_key"}}))

    with pytest.raises(ProviderRejected) as caught:
        provider.extract_concepts(CHUNK)

    assert "rejected the API key" in caught.value.operator_detail and "OPENAI_API_KEY" not in str(caught.value)
    assert str(caught.value).startswith("The AI service this site uses refused its settings")
    assert isinstance(caught.value, PermanentError)
    assert API_KEY not in str(caught.value) and "SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_403_refused(fake_openai, provider):
    fake_openai.script(status(403))

    with pytest.raises(ProviderRejected) as caught:
        provider.extract_concepts(CHUNK)
    assert "refused access (HTTP 403)" in caught.value.operator_detail


def test_404_names_the_model(fake_openai, provider):
    fake_openai.script(status(404))

    with pytest.raises(ProviderRejected) as caught:
        provider.extract_concepts(CHUNK)

    assert f"does not know the model '{MODEL}' (HTTP 404)" in caught.value.operator_detail


def test_400_shows_the_provider_message_trimmed_and_scrubbed(fake_openai, provider):
    long_message = (f"This model's maximum context length is 8192 tokens (key {API_KEY}). " + "x" * 1000)
    fake_openai.script(status(400, body={"error": {"message": long_message, "type": "invalid_request_error",
                                                   "param": "messages", "code": "context_length_exceeded"}}))

    with pytest.raises(ProviderRejected) as caught:
        provider.extract_concepts(CHUNK)

    message = str(caught.value)
    assert message.startswith("the AI provider rejected the request (HTTP 400): This model's maximum context")
    assert API_KEY not in message and "SECRET" not in message
    assert len(message) < 400


# --- bad output: repair, retry once, give up -----------------------------------------------------

GOOD_JSON = json.dumps(GOOD)


@pytest.mark.parametrize("content", [
    GOOD_JSON[:-1] + ",}",  # trailing comma
    GOOD_JSON.replace('"', "'"),  # single quotes
    GOOD_JSON[:-2],  # missing closing brackets
    f"Here is the JSON you asked for:\n```json\n{GOOD_JSON}\n```",  # prose and a code fence
])
def test_repairable_json_is_parsed_without_a_retry(fake_openai, provider, content):
    fake_openai.script(malformed(content))

    call = provider.extract_concepts(CHUNK)

    assert [c.name for c in call.output.concepts] == ["Krebs cycle", "cellular respiration"]
    assert len(fake_openai.requests) == 1


def test_unrepairable_output_is_retried_once_then_parsed(fake_openai, provider):
    fake_openai.script(malformed("I am sorry, I cannot help with that.",
                                 usage={"prompt_tokens": 100, "completion_tokens": 10}),
                       ok(GOOD, usage={"prompt_tokens": 120, "completion_tokens": 50}))

    call = provider.extract_concepts(CHUNK)

    assert len(call.output.concepts) == 2
    assert (call.usage.prompt_tokens, call.usage.completion_tokens) == (220, 60)  # both requests
    assert len(fake_openai.requests) == 2
    retry = fake_openai.requests[1].messages
    assert retry[:2] == fake_openai.requests[0].messages
    assert retry[-1]["role"] == "user" and "valid JSON" in retry[-1]["content"]


def test_unrepairable_output_twice_is_bad_output(fake_openai, provider):
    fake_openai.script(malformed("garbage", usage={"prompt_tokens": 5, "completion_tokens": 1}),
                       malformed("{not json", usage={"prompt_tokens": 6, "completion_tokens": 2}))

    with pytest.raises(ProviderBadOutput) as caught:
        provider.extract_concepts(CHUNK)

    assert str(caught.value) == "the AI provider returned output that does not match the expected format"
    assert isinstance(caught.value, TransientError)
    assert (caught.value.usage.prompt_tokens, caught.value.usage.completion_tokens) == (11, 3)
    assert len(fake_openai.requests) == 2


def test_json_of_the_wrong_shape_counts_as_bad_output(fake_openai, provider):
    fake_openai.script(ok({"answer": "nothing useful"}), ok([1, 2, 3]))

    with pytest.raises(ProviderBadOutput):
        provider.extract_concepts(CHUNK)
    assert len(fake_openai.requests) == 2


def test_invalid_items_are_dropped_not_the_whole_chunk(fake_openai, provider):
    answer = json.loads(GOOD_JSON)
    answer["relations"].append({"source": "Krebs cycle", "target": "ATP", "type": "synonym_of",
                                "page": "12", "quote": "x"})
    answer["concepts"].append({"name": "", "pages": ["12"]})
    fake_openai.script(ok(answer))

    call = provider.extract_concepts(CHUNK)

    assert [c.name for c in call.output.concepts] == ["Krebs cycle", "cellular respiration"]
    assert [r.type for r in call.output.relations] == [RelationType.PART_OF]
    assert len(fake_openai.requests) == 1


def test_empty_but_well_formed_answer_is_accepted(fake_openai, provider):
    fake_openai.script(ok({"concepts": [], "relations": []}))

    assert provider.extract_concepts(CHUNK).output == ChunkConcepts()


def test_parse_output_edge_cases():
    assert parse_output(None, ConceptDescription) is None
    assert parse_output("   ", ConceptDescription) is None
    assert parse_output("{}", ChunkConcepts) is None
    assert parse_output('{"description": "ok"', ConceptDescription).description == "ok"


def test_retry_after_parsing():
    now = time.time()
    assert retry_after_seconds({"retry-after": "7"}) == 7
    assert retry_after_seconds({"retry-after": "0.25"}) == 0.25
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": email.utils.formatdate(now + 20, usegmt=True)}, now=now) == \
        pytest.approx(20, abs=1)
    assert retry_after_seconds({"retry-after": email.utils.formatdate(now - 60, usegmt=True)}, now=now) == 0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


# --- concurrency and the cache -------------------------------------------------------------------

def test_one_provider_serves_many_threads_at_once(fake_openai, provider):
    fake_openai.delay = 0.3
    results, errors = [], []

    def work(index: int) -> None:
        try:
            chunk = ChunkInput(segments=[Segment(page=str(index), text=f"Topic{index} relates to Subject{index}.")])
            results.append(provider.extract_concepts(chunk).output)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert not errors
    assert sorted(r.concepts[0].name for r in results) == sorted(f"Topic{i}" for i in range(8))
    assert fake_openai.max_in_flight > 1  # the requests overlapped: nothing serialises them
    assert len(fake_openai.requests) == 8


@pytest.mark.django_db
def test_cached_provider_answers_a_repeat_without_requests(fake_openai, provider):
    from studyapp.ai.cache import CachedProvider

    cached = CachedProvider(provider)
    first = cached.extract_concepts(CHUNK)
    assert len(fake_openai.requests) == 1 and not first.cached and first.usage.prompt_tokens > 0

    second = cached.extract_concepts(CHUNK)

    assert len(fake_openai.requests) == 1
    assert second.cached and second.usage.prompt_tokens == 0
    assert second.output == first.output
