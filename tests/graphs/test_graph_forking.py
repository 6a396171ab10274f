"""A graph built by the openai provider (real SDK, fake server) survives kill -9 of its worker."""

from __future__ import annotations

import hashlib
import time
from collections import Counter

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.ai.models import ProviderResponse
from studyapp.graphs.models import ConceptGraph, GraphChunk
from studyapp.graphs.services import current_graph
from tests.ai.fake_openai import FakeOpenAI
from tests.conftest import child_pids, kill_worker_and_horse, pdf_path
from tests.jobs.helpers import drain

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def fake_server():
    server = FakeOpenAI(delay=0.1).start()
    yield server
    server.stop()


@pytest.fixture
def openai_settings(settings, fake_server):
    """The test process and its workers both use the openai provider against the fake server."""
    values = {"AI_PROVIDER": "openai", "OPENAI_BASE_URL": fake_server.base_url, "OPENAI_API_KEY": "sk-test",
              "OPENAI_MODEL": "fake-model", "AI_CONCURRENCY": "2", "JOBS_HEARTBEAT_INTERVAL_S": "1",
              "JOBS_HEARTBEAT_GRACE_S": "3", "JOBS_RECOVERY_INTERVAL_S": "2"}
    for name in ("AI_PROVIDER", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL"):
        setattr(settings, name, values[name])
    settings.AI_CONCURRENCY = 2
    return values


def chunk_requests(server: FakeOpenAI) -> Counter:
    """How many times each chunk (by the text sent) was asked for."""
    return Counter(hashlib.sha256(r.user_message.encode()).hexdigest()
                   for r in server.chat_requests if r.schema_name == "extract_concepts")


def graph_shape(graph: ConceptGraph) -> tuple[set, set]:
    concepts = {(c.key, tuple(c.pages)) for c in graph.concepts.all()}
    relations = {(r.source.key, r.type, r.target.key, r.page, r.quote) for r in graph.relations.select_related("source", "target")}
    return concepts, relations


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_a_killed_graph_build_resumes_without_redoing_finished_chunks(alice, bob, start_worker, fake_server,
                                                                      openai_settings):
    """kill -9 halfway: every checkpointed chunk is asked for once in all; the graph equals a clean build."""
    with pdf_path("GeoTopo-komprimiert.pdf").open("rb") as fh:
        document, _ = document_upload(owner=alice, upload=fh, filename="geotopo.pdf")
    worker = start_worker(extra_env=openai_settings)
    wait_for(lambda: GraphChunk.objects.filter(status="done").count() >= 12, 120, "12 chunks checkpointed")
    assert child_pids(worker.pid)
    kill_worker_and_horse(worker.pid)
    worker.wait(10)
    checkpointed = {c.content_hash for c in GraphChunk.objects.filter(status="done")}
    graph_run = JobRun.objects.get(kind="generate_graph")
    assert graph_run.status == "running"
    total_chunks_hint = 40
    assert len(checkpointed) < total_chunks_hint, "the kill must land halfway"

    second = start_worker(extra_env=openai_settings)
    wait_for(lambda: JobRun.objects.get(pk=graph_run.pk).is_finished, 180, "the graph run to finish")
    second.terminate()
    second.wait(30)
    graph_run.refresh_from_db()
    assert graph_run.status == "succeeded" and graph_run.attempts == 2
    requests = chunk_requests(fake_server)
    graph = current_graph(document)
    assert graph.stats["chunks"] == GraphChunk.objects.filter(graph=graph).count() == total_chunks_hint
    in_flight_at_kill = sum(count - 1 for count in requests.values())
    assert in_flight_at_kill <= 2, "only requests in flight at the kill (concurrency 2) may repeat"
    assert len(requests) == total_chunks_hint

    # The same PDF for another student, built without interruption and without the cache.
    ProviderResponse.objects.all().delete()
    with pdf_path("GeoTopo-komprimiert.pdf").open("rb") as fh:
        clean_document, _ = document_upload(owner=bob, upload=fh, filename="geotopo.pdf")
    drain()
    assert graph_shape(current_graph(clean_document)) == graph_shape(graph)


def test_the_graph_bar_moves_with_every_chunk_for_a_reader_in_another_process(alice, start_worker, fake_server,
                                                                             openai_settings):
    """The worker builds the graph; this process reads the run's progress row and sees `done` rise,
    with an ETA once a few chunks are in."""
    with pdf_path("GeoTopo-komprimiert.pdf").open("rb") as fh:
        document_upload(owner=alice, upload=fh, filename="geotopo.pdf")
    start_worker(extra_env={**openai_settings, "JOBS_DB_PROGRESS_INTERVAL_S": "0.2"})
    seen: list[tuple[int, float | None]] = []

    def extracting_done_rises() -> bool:
        run = JobRun.objects.filter(kind="generate_graph").first()
        progress = (run.progress if run else None) or {}
        if progress.get("stage", "").startswith("extracting concepts") and progress.get("done") is not None:
            if not seen or progress["done"] > seen[-1][0]:
                seen.append((progress["done"], progress.get("eta_s")))
        return len(seen) >= 5

    wait_for(extracting_done_rises, 120, "five readings of rising progress")
    dones = [done for done, _ in seen]
    assert dones == sorted(set(dones)) and dones[-1] < 47, seen  # rising, before the end
    assert any(eta is not None and eta > 0 for _, eta in seen[2:]), seen
