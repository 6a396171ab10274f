"""Graph generation and explanations through the job layer (real Redis, in-process worker)."""

from __future__ import annotations

import pytest

from jobs import tasks
from jobs.models import JobRun
from jobs.pipelines import document_upload, explanation_request, graph_submit
from jobs.ratelimit import ProviderLimiter
from studyapp.ai.cache import CachedProvider
from studyapp.ai.errors import ProviderBadOutput, ProviderRateLimited, ProviderRejected
from studyapp.graphs.evidence import PageIndex, normalise
from studyapp.graphs.models import ConceptGraph, Explanation, GraphChunk
from studyapp.graphs.services import current_graph, document_pages
from tests.conftest import pdf_path
from tests.graphs.fakes import CountingProvider
from tests.jobs.helpers import drain, release_scheduled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(monkeypatch, settings):
    """Every AI job in this test uses one counting provider (behind the real cache)."""
    settings.AI_PROVIDER = "local"
    fake = CountingProvider()
    monkeypatch.setattr(tasks, "get_provider", lambda name, model, limiter, **_: CachedProvider(fake, limiter=limiter))
    return fake


def upload(owner, name="pdflatex-4-pages.pdf", password=""):
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name, password=password)


def graph_run(document) -> JobRun:
    return JobRun.objects.get(kind="generate_graph", subject_id=document.pk)


def test_an_upload_builds_the_graph_after_extraction_with_cited_evidence(alice, provider):
    """extract -> graph as an RQ chain; concepts have pages; every quote occurs on its cited page."""
    document, _ = upload(alice, "google-doc-document.pdf")
    drain()
    run = graph_run(document)
    assert run.status == "succeeded", (run.stage, run.error)
    assert run.upstream.kind == "extract_document"
    graph = current_graph(document)
    assert graph.status == "ready" and graph.stats["concepts"] > 5 and graph.stats["relations"] > 0
    index = PageIndex(document_pages(document))
    for concept in graph.concepts.all():
        assert concept.pages and set(concept.pages) <= index.labels
    for relation in graph.relations.all():
        assert index.quote_on_page(relation.quote, relation.page), relation.quote
    assert run.usage["prompt_tokens"] > 0 and run.usage["completion_tokens"] > 0


def test_a_failed_extraction_fails_the_graph_run_with_its_reason(alice, provider):
    """The graph run never stays DEFERRED: it ends failed with 'extraction failed: <reason>'."""
    document, _ = upload(alice, "libreoffice-writer-password.pdf")
    drain()
    run = graph_run(document)
    assert run.status == "failed"
    assert run.error == "extraction failed: This PDF is password-protected: password required."
    assert provider.calls == []


def test_a_rate_limit_waits_without_spending_an_attempt_and_keeps_finished_chunks(alice, provider, settings):
    """RateLimited mid-graph: waiting, attempts unchanged; the resumed run skips stored chunks."""
    settings.AI_CONCURRENCY = 1
    provider.fail_on = {2: ProviderRateLimited("slow down", retry_after=30)}
    document, _ = upload(alice, "GeoTopo-komprimiert.pdf")
    drain()
    run = graph_run(document)
    assert (run.status, run.stage, run.attempts) == ("waiting", "waiting: rate limited", 0)
    stored = GraphChunk.objects.filter(status="done").count()
    assert stored >= 1, "chunks answered before the limit are kept (one more may have been in flight)"
    release_scheduled()
    drain()
    run.refresh_from_db()
    chunks = GraphChunk.objects.count()
    assert run.status == "succeeded" and run.attempts == 1
    assert provider.calls.count("extract_concepts") == chunks + 1, "only the rate-limited call is repeated"


def test_unusable_output_for_one_chunk_counts_it_failed_and_the_graph_continues(alice, provider):
    """ProviderBadOutput on a chunk: that chunk is failed, the others make the graph."""
    provider.fail_on = {1: ProviderBadOutput("garbled")}
    document, _ = upload(alice, "pdflatex-4-pages.pdf")
    drain()
    graph = current_graph(document)
    assert graph.stats["failed_chunks"] == 1 and graph.stats["chunks"] > 1
    assert graph_run(document).status == "succeeded"


def test_a_rejected_api_key_fails_at_once_with_a_clear_message(alice, provider):
    """Permanent provider errors are not retried."""
    provider.fail_on = {1: ProviderRejected("the AI provider rejected the API key (HTTP 401)")}
    document, _ = upload(alice)
    drain()
    run = graph_run(document)
    assert (run.status, run.attempts) == ("failed", 1)
    assert run.error == "the AI provider rejected the API key (HTTP 401)"
    assert document.graphs.get().status == "failed"


def test_rebuilding_an_unchanged_graph_makes_zero_provider_calls(alice, provider):
    """The second build of the same document, provider and model is answered from the cache."""
    document, _ = upload(alice)
    drain()
    first = current_graph(document)
    calls = len(provider.calls)
    GraphChunk.objects.all().delete()  # even without checkpoints, the response cache answers
    rerun = graph_submit(document=document, owner=alice)
    drain()
    rerun.refresh_from_db()
    assert rerun.status == "succeeded" and len(provider.calls) == calls
    assert rerun.usage == {"prompt_tokens": 0, "completion_tokens": 0}
    assert current_graph(document).stats["concepts"] == first.stats["concepts"]


def test_the_old_graph_stays_current_until_a_rebuild_with_another_model_succeeds(alice, provider):
    """A new provider/model builds a second graph; the first serves until it is ready."""
    document, _ = upload(alice)
    drain()
    old = current_graph(document)
    graph_submit(document=document, owner=alice, model="another-model")
    assert current_graph(document) == old
    drain()
    new = current_graph(document)
    assert new != old and new.model == "another-model" and ConceptGraph.objects.count() == 2


def test_explaining_a_connection_stores_it_with_real_citations_and_is_asked_only_once(alice, provider):
    """High priority; citations of pages that do not exist are dropped; asking again returns it."""
    document, _ = upload(alice, "google-doc-document.pdf")
    drain()
    graph = current_graph(document)
    source, target = graph.relations.first().source, graph.relations.first().target
    run = explanation_request(graph=graph, source=source, target=target, owner=alice)
    assert isinstance(run, JobRun) and run.queue == "ai_high"
    assert explanation_request(graph=graph, source=source, target=target, owner=alice).pk == run.pk
    drain()
    explanation = explanation_request(graph=graph, source=source, target=target, owner=alice)
    assert isinstance(explanation, Explanation)
    labels = PageIndex(document_pages(document)).labels
    assert explanation.citations and all(c["page"] in labels for c in explanation.citations)
    assert provider.calls.count("explain_connection") == 1


def test_the_provider_limiter_is_shared_and_says_when_to_come_back(settings):
    """Two requests a minute: the third asks to wait about a minute (spends nothing)."""
    limiter = ProviderLimiter("fake", "m", requests_per_minute=2, tokens_per_minute=10_000)
    limiter(10)
    ProviderLimiter("fake", "m", requests_per_minute=2, tokens_per_minute=10_000)(10)  # another worker
    with pytest.raises(ProviderRateLimited) as excinfo:
        limiter(10)
    assert 50 <= excinfo.value.retry_after <= 61


def test_the_token_budget_is_shared_too():
    """A request bigger than what is left of the token budget waits."""
    limiter = ProviderLimiter("fake", "tokens", requests_per_minute=100, tokens_per_minute=1000)
    limiter(900)
    with pytest.raises(ProviderRateLimited):
        limiter(200)


def test_normalise_ignores_case_quotes_and_whitespace():
    """Quote checks survive line breaks and typographic quotes."""
    assert normalise("The  “cell”\n theory") == "the cell theory"


def test_token_usage_is_summed_per_document_and_per_owner(alice, bob, provider):
    """Graph and explanation tokens add up on the document and on its owner, not on others."""
    from jobs.selectors import usage_for_document, usage_for_owner

    document, _ = upload(alice, "google-doc-document.pdf")
    drain()
    graph = current_graph(document)
    relation = graph.relations.first()
    explanation_request(graph=graph, source=relation.source, target=relation.target, owner=alice)
    drain()
    graph_tokens = graph_run(document).usage
    quiz_tokens = JobRun.objects.get(kind="create_quiz").usage  # the quiz written after the graph
    assert quiz_tokens["prompt_tokens"] > 0
    per_document = usage_for_document(document)
    assert per_document["prompt_tokens"] == graph_tokens["prompt_tokens"] + quiz_tokens["prompt_tokens"] + 30
    assert per_document["completion_tokens"] == (graph_tokens["completion_tokens"] + quiz_tokens["completion_tokens"]
                                                 + 10)
    assert usage_for_owner(alice) == per_document
    assert usage_for_owner(bob) == {"prompt_tokens": 0, "completion_tokens": 0}
