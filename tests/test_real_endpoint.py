"""Opt-in: the whole pipeline against a real OpenAI-compatible endpoint named by the environment.

Skipped unless REAL_OPENAI_BASE_URL is set (docs/openai-compatible-servers.md). Also read:
REAL_OPENAI_MODEL, REAL_OPENAI_API_KEY, REAL_OPENAI_FOLD_SYSTEM (1/0), REAL_OPENAI_OUTPUT_MODE
(auto by default) and REAL_OPENAI_TIMEOUT_S. It uploads a three-page sample, lets the graph and the
quiz be written, asks for one explanation, and checks that every step succeeded, that every saved
quote is on its page, and that the tokens were counted. A small model may write fewer questions
than asked; the checks hold it to the same validators as any provider, not to a count.
"""

from __future__ import annotations

import os

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload, explanation_request
from studyapp.graphs.evidence import PageIndex
from studyapp.graphs.models import Explanation
from studyapp.graphs.services import current_graph, document_pages
from tests.conftest import REPO
from tests.jobs.helpers import drain_with_retries

BASE_URL = os.environ.get("REAL_OPENAI_BASE_URL", "")

pytestmark = [
    pytest.mark.skipif(not BASE_URL, reason="set REAL_OPENAI_BASE_URL to run against a real endpoint"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def real_endpoint(settings):
    settings.AI_PROVIDER, settings.OPENAI_BASE_URL = "openai", BASE_URL
    settings.OPENAI_MODEL = os.environ.get("REAL_OPENAI_MODEL", "local")
    settings.OPENAI_API_KEY = os.environ.get("REAL_OPENAI_API_KEY", "")
    settings.OPENAI_FOLD_SYSTEM = os.environ.get("REAL_OPENAI_FOLD_SYSTEM", "0") == "1"
    settings.OPENAI_OUTPUT_MODE = os.environ.get("REAL_OPENAI_OUTPUT_MODE", "auto")
    settings.OPENAI_TIMEOUT_S = float(os.environ.get("REAL_OPENAI_TIMEOUT_S", "300"))
    settings.AI_CONCURRENCY = 1
    settings.QUIZ_DEFAULT_COUNT = 3


def test_the_whole_pipeline_against_a_real_endpoint(alice, real_endpoint):
    with (REPO / "samples" / "cell-biology-notes.pdf").open("rb") as fh:
        document, _ = document_upload(owner=alice, upload=fh, filename="cell-biology-notes.pdf")
    drain_with_retries()
    graph = current_graph(document)
    assert graph is not None, _runs(alice)
    relation = graph.relations.first()
    assert relation is not None, "the model stated no relation the text supports"
    explanation_request(graph=graph, source=relation.source, target=relation.target, owner=alice)
    drain_with_retries()

    runs = _runs(alice)
    assert {kind: status for kind, (status, _) in runs.items()} == {
        "extract_document": "succeeded", "generate_graph": "succeeded", "create_quiz": "succeeded",
        "explain_connection": "succeeded"}, runs
    index = PageIndex(document_pages(document))
    for question in document.quizzes.get().questions.all():
        assert index.quote_on_page(question.quote, question.page)
    assert Explanation.objects.get().text
    for run in JobRun.objects.filter(kind__in=("generate_graph", "create_quiz", "explain_connection")):
        assert run.usage.get("prompt_tokens", 0) > 0


def _runs(owner) -> dict[str, tuple[str, str]]:
    return {run.kind: (run.status, run.error) for run in JobRun.objects.filter(owner=owner)}
