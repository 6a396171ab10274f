"""A run that waits (for its parts, for a rate limit) returns RQ's Retry; RQ would count that as a
failed job. It must not show as failed anywhere: the failed registries stay empty and no worker's
failed-job count (`rq info`, rq_job_failed_total on /metrics) rises."""

from __future__ import annotations

import io

import pytest
from rq.worker.base import BaseWorker

from jobs.connection import get_queue
from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.policies import all_queue_names
from studyapp.core.errors import RateLimited
from tests.fixtures.make_pdfs import numbered_pdf
from tests.jobs.helpers import drain, drain_with_retries
from tests.jobs.test_runner import noop_policy  # noqa: F401 - a fixture
from jobs.submit import submit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failures_counted(monkeypatch):
    """How often a worker added to its failed-job count in Redis."""
    counted = []
    real = BaseWorker.increment_failed_job_count

    def counting(self, pipeline=None):
        counted.append(1)
        return real(self, pipeline=pipeline)

    monkeypatch.setattr(BaseWorker, "increment_failed_job_count", counting)
    return counted


def failed_registry_size() -> int:
    return sum(get_queue(name).failed_job_registry.count for name in all_queue_names())


def test_a_rate_limited_run_waits_without_counting_as_failed(alice, noop_policy, failures_counted):
    outcomes = [RateLimited(retry_after=1), None]

    def behaviour(run, progress):
        outcome = outcomes.pop(0)
        if outcome:
            raise outcome

    noop_policy(behaviour)
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert (run.status, run.stage) == ("waiting", "waiting: rate limited")
    assert failures_counted == [] and failed_registry_size() == 0
    drain_with_retries()
    run.refresh_from_db()
    assert run.status == "succeeded" and failures_counted == [] and failed_registry_size() == 0


def test_a_fanned_out_extraction_waits_for_its_parts_without_counting_as_failed(alice, settings, failures_counted):
    settings.EXTRACT_FANOUT_PAGES, settings.EXTRACT_FANOUT_CHUNK = 10, 5
    settings.PIPELINE_AUTO_GRAPH = False
    document, parent = document_upload(owner=alice, upload=io.BytesIO(numbered_pdf(12)), filename="big.pdf")
    drain_with_retries()
    parent.refresh_from_db()
    assert parent.status == "succeeded" and JobRun.objects.filter(kind="extract_pages").count() == 3
    assert failures_counted == [] and failed_registry_size() == 0


def test_a_failure_still_counts(alice, noop_policy, failures_counted):
    from studyapp.core.errors import PermanentError

    def behaviour(run, progress):
        raise PermanentError("bad input")

    noop_policy(behaviour)
    submit("noop", alice, alice)
    drain()
    assert failures_counted == [1] and failed_registry_size() == 1
