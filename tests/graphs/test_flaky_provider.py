"""A provider that fails 15% of its calls (500s and dropped connections): calls are tried again inside
the attempt, so no run spends more than 2 attempts and every pipeline completes."""

from __future__ import annotations

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from tests.ai.fake_openai import FakeOpenAI
from tests.conftest import pdf_path
from tests.jobs.helpers import drain_with_retries

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTS = ["GeoTopo-komprimiert.pdf", "google-doc-document.pdf", "pdflatex-4-pages.pdf"]


@pytest.fixture
def flaky_server(settings):
    server = FakeOpenAI(error_rate=0.15, seed=2026).start()
    settings.AI_PROVIDER, settings.OPENAI_BASE_URL = "openai", server.base_url
    settings.OPENAI_API_KEY, settings.OPENAI_MODEL, settings.AI_CONCURRENCY = "sk-test", "fake-model", 2
    settings.OPENAI_TIMEOUT_S = 5
    yield server
    server.stop()


def test_at_a_15_percent_error_rate_no_run_spends_more_than_two_attempts(alice, flaky_server):
    for name in DOCUMENTS:
        with pdf_path(name).open("rb") as fh:
            document_upload(owner=alice, upload=fh, filename=name)
    drain_with_retries()

    runs = list(JobRun.objects.filter(kind__in=("generate_graph", "create_quiz")))
    assert len(runs) == 2 * len(DOCUMENTS)
    assert {run.status for run in runs} == {"succeeded"}, [(r.kind, r.status, r.error) for r in runs]
    assert max(run.attempts for run in runs) <= 2, [(r.kind, r.attempts) for r in runs]
    calls = len(flaky_server.chat_requests)
    assert flaky_server.errors_served >= 0.08 * calls > 3, (flaky_server.errors_served, calls)
