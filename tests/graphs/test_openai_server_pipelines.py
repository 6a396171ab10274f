"""The whole pipeline (graph, quiz, explanation) on the openai provider against the kinds of
OpenAI-compatible servers people run: one that takes json_schema, and one like llama-cpp-python's
that takes only json_object and drops system messages. The output mode is chosen by itself, a
rejected request fails at once with the server's reason, cut-off answers are never stored, and
every spent token is on the run. Real SDK, fake server on loopback, real RQ on a private Redis."""

from __future__ import annotations

from dataclasses import replace

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload, explanation_request
from jobs.policies import POLICIES
from studyapp.ai.models import KnownEndpoint, ProviderResponse
from studyapp.graphs.models import Explanation, GraphChunk
from studyapp.graphs.services import current_graph
from tests.ai.fake_openai import FakeOpenAI
from tests.conftest import pdf_path
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)

SERVERS = {"json_schema": FakeOpenAI, "llama_cpp": FakeOpenAI.like_llama_cpp}


@pytest.fixture
def use_server(settings):
    started = []

    def use(kind: str) -> FakeOpenAI:
        fake = SERVERS[kind]().start()
        started.append(fake)
        settings.AI_PROVIDER, settings.OPENAI_BASE_URL = "openai", fake.base_url
        settings.OPENAI_API_KEY, settings.OPENAI_MODEL, settings.AI_CONCURRENCY = "sk-test", "small-model", 1
        settings.OPENAI_FOLD_SYSTEM = kind == "llama_cpp"
        return fake

    yield use
    for fake in started:
        fake.stop()


def upload(owner, name: str = "multicolumn.pdf"):
    with pdf_path(name).open("rb") as fh:
        document, _ = document_upload(owner=owner, upload=fh, filename=name)
    drain()
    return document


def runs(document) -> dict[str, JobRun]:
    return {run.kind: run for run in JobRun.objects.filter(owner=document.owner)}


@pytest.mark.parametrize("kind", ["json_schema", "llama_cpp"])
def test_the_whole_pipeline_completes_with_the_mode_chosen_by_itself(alice, use_server, kind):
    server = use_server(kind)
    document = upload(alice)
    graph = current_graph(document)
    relation = graph.relations.first()
    explanation_request(graph=graph, source=relation.source, target=relation.target, owner=alice)
    drain()

    by_kind = runs(document)
    assert {k: r.status for k, r in by_kind.items()} == {
        "extract_document": "succeeded", "generate_graph": "succeeded", "create_quiz": "succeeded",
        "explain_connection": "succeeded"}
    assert Explanation.objects.get().text and document.quizzes.get().questions.exists()
    for ai_kind in ("generate_graph", "create_quiz", "explain_connection"):
        run = by_kind[ai_kind]
        assert run.attempts == 1 and run.usage["prompt_tokens"] > 0 and run.usage["completion_tokens"] > 0
        asked = [r for r in server.chat_requests if r.operation in _operations(ai_kind)]
        assert asked and {r.max_tokens for r in asked} == {POLICIES[ai_kind].max_output_tokens}

    modes = [r.output_mode for r in server.chat_requests]
    if kind == "json_schema":
        assert set(modes) == {"json_schema"} and not KnownEndpoint.objects.exists()
    else:
        # One refused request for the whole pipeline: the learnt mode is shared through the database.
        assert modes[0] == "json_schema" and set(modes[1:]) == {"json_object_schema"}
        assert KnownEndpoint.objects.get().output_mode == "json_object_schema"
        assert all([m["role"] for m in r.messages] == ["user"] for r in server.chat_requests)


def _operations(kind: str) -> set[str]:
    return {"generate_graph": {"extract_concepts", "describe_concept"}, "create_quiz": {"write_questions"},
            "explain_connection": {"explain_connection"}}[kind]


def test_a_request_the_server_rejects_fails_the_run_at_once_with_the_servers_reason(alice, use_server, settings):
    server = use_server("llama_cpp")
    settings.OPENAI_OUTPUT_MODE = "json_schema"  # forced: a mode this server refuses

    graph_run = runs(upload(alice))["generate_graph"]

    assert (graph_run.status, graph_run.attempts) == ("failed", 1)
    assert "HTTP 500" in graph_run.error and "Input should be 'text' or 'json_object'" in graph_run.error
    asked = [r.user_message for r in server.chat_requests]
    assert len(asked) == len(set(asked)), "no request that can never succeed is sent again"


def test_cut_off_answers_are_never_stored_and_their_tokens_are_counted(alice, use_server, monkeypatch):
    use_server("json_schema")
    monkeypatch.setitem(POLICIES, "generate_graph", replace(POLICIES["generate_graph"], max_output_tokens=25))

    graph_run = runs(upload(alice))["generate_graph"]

    assert graph_run.status == "waiting" and graph_run.attempts == 1  # bad output: retried later
    assert "cut off at the output limit of 25 tokens" in graph_run.error
    assert graph_run.usage["completion_tokens"] == 25 * GraphChunk.objects.count() > 0
    assert set(GraphChunk.objects.values_list("status", flat=True)) == {GraphChunk.Status.FAILED}
    assert not ProviderResponse.objects.exists()
