"""The openai provider inside graph jobs (real SDK, fake server): how each answer shapes the run."""

from __future__ import annotations

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.graphs.services import current_graph
from tests.ai.fake_openai import FakeOpenAI, malformed, status
from tests.conftest import pdf_path
from tests.jobs.helpers import drain, release_scheduled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def server(settings):
    fake = FakeOpenAI().start()
    settings.AI_PROVIDER, settings.OPENAI_BASE_URL = "openai", fake.base_url
    settings.OPENAI_API_KEY, settings.OPENAI_MODEL, settings.AI_CONCURRENCY = "sk-test-secret", "fake-model", 1
    yield fake
    fake.stop()


def graph_run_for(owner, name: str = "multicolumn.pdf") -> JobRun:
    with pdf_path(name).open("rb") as fh:
        document, _ = document_upload(owner=owner, upload=fh, filename=name)
    drain()
    return JobRun.objects.get(kind="generate_graph", subject_id=document.pk)


def test_a_429_with_retry_after_parks_the_run_without_spending_an_attempt(alice, server):
    """429 + Retry-After: 7 -> waiting: rate limited, 0 attempts, back on the queue after ~7 s."""
    server.script(status(429, headers={"Retry-After": "7"}))
    run = graph_run_for(alice)
    assert (run.status, run.stage, run.attempts) == ("waiting", "waiting: rate limited", 0)
    assert 6 <= (run.next_attempt_at - run.updated_at).total_seconds() <= 8
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)


def test_a_500_is_retried_by_the_job_and_then_succeeds(alice, server, settings):
    """5xx is transient: the SDK does not retry (max_retries=0); the call is tried AI_CALL_RETRIES more
    times inside the attempt, and when the provider stays down the job's second attempt runs."""
    server.script(*[status(500)] * (1 + settings.AI_CALL_RETRIES))
    run = graph_run_for(alice)
    assert run.status == "waiting" and run.attempts == 1 and run.stage.startswith("retrying in ")
    assert "HTTP 500" in run.error
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 2)


def test_output_that_cannot_be_repaired_fails_that_chunk_and_the_run_continues(alice, server):
    """Garbage twice (the answer and its one retry) -> that chunk failed; the graph is still built."""
    server.script(malformed("I cannot answer in JSON today."), malformed("Still no JSON, sorry."))
    run = graph_run_for(alice, "GeoTopo-komprimiert.pdf")
    assert run.status == "succeeded", (run.stage, run.error)
    graph = current_graph(JobRun.objects.get(pk=run.pk).subject)
    assert graph.stats["failed_chunks"] == 1 and graph.stats["chunks"] > 10 and graph.stats["concepts"] > 0


def test_a_401_fails_at_once_with_a_clear_message_that_hides_the_key(alice, server):
    """A rejected key is permanent: one attempt, a message a student or operator understands."""
    server.script(status(401))
    run = graph_run_for(alice)
    assert (run.status, run.attempts) == ("failed", 1)
    assert run.error.startswith("The AI service this site uses refused its settings") and "OPENAI" not in run.error
    assert "rejected the API key (HTTP 401); check OPENAI_API_KEY" in run.operator_note  # the admin shows it
    assert "sk-test-secret" not in run.error + run.operator_note
    document = JobRun.objects.get(pk=run.pk).subject
    assert "OPENAI" not in document.graphs.get().error
    asked = [r.user_message for r in server.chat_requests if r.schema_name == "extract_concepts"]
    assert len(asked) == len(set(asked)), "no chunk is asked twice: neither the SDK nor the job retried"


def test_a_redis_outage_in_the_shared_limiter_waits_without_spending_an_attempt(alice, server, monkeypatch):
    """Losing the transport is the system's fault: the run waits (and says why), attempts untouched."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from jobs.ratelimit import REDIS_WAIT_STAGE, ProviderLimiter

    real_try = ProviderLimiter._try
    outage = {"left": 1}

    def flaky_try(self, cost):
        if outage["left"]:
            outage["left"] -= 1
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return real_try(self, cost)

    monkeypatch.setattr(ProviderLimiter, "_try", flaky_try)
    run = graph_run_for(alice)
    assert (run.status, run.stage, run.attempts) == ("waiting", REDIS_WAIT_STAGE, 0)
    assert "Connection refused" not in run.error
    release_scheduled()
    drain()
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
