"""The job panel's failed view is the student's dead-letter view: requeue (tests/web/test_views.py) or
discard, one or many. A discarded run leaves the failed view and RQ's failed registry, and stays in "all"."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rq.registry import FailedJobRegistry

from jobs.connection import get_redis
from jobs.models import JobRun
from tests.fixtures import make_pdfs
from tests.jobs.helpers import drain
from tests.web.helpers import SAMPLE, Html, upload_bytes

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def failed_pipeline(owner) -> list[JobRun]:
    """A blank PDF's extraction, graph and quiz runs, all failed for good (no readable text)."""
    _document, extraction = upload_bytes(owner, make_pdfs.blank_pdf(1), "blank.pdf")
    drain()
    runs = list(JobRun.objects.filter(owner=owner).order_by("created_at"))
    assert [(r.kind, r.status) for r in runs] == [("extract_document", "failed"), ("generate_graph", "failed"),
                                                   ("create_quiz", "failed")]
    return runs


def rows(client, job_filter: str) -> list[str]:
    page = Html(client.get(reverse("web:jobs") + f"?filter={job_filter}").content.decode())
    return [r["id"].removeprefix("job-") for r in page.find("tr") if r.get("id", "").startswith("job-")]


def in_rq_failed_registry(run: JobRun) -> bool:
    return str(run.pk) in FailedJobRegistry(run.queue, connection=get_redis(run.queue)).get_job_ids()


def test_discarding_selected_runs_takes_them_out_of_the_failed_view_and_keeps_them_in_all(client, alice):
    """Two of three dead letters discarded: the failed view and its count show the third; "all" still lists
    the three, the two marked discarded; they stay failed in the database and leave RQ's failed registry."""
    extraction, graph, quiz = failed_pipeline(alice)
    assert in_rq_failed_registry(extraction)
    client.force_login(alice)
    failed = Html(client.get(reverse("web:jobs") + "?filter=failed").content.decode())
    assert failed.find("button", formaction=reverse("web:jobs_discard"))
    assert failed.find("form", action=reverse("web:job_discard", args=[extraction.pk]))

    response = client.post(reverse("web:jobs_discard"), {"run": [str(extraction.pk), str(graph.pk)]}, follow=True)
    assert response.redirect_chain == [(reverse("web:jobs") + "?filter=failed", 302)]
    page = Html(response.content.decode())
    assert "Discarded 2 job(s); they are still listed under All." in page.text
    assert rows(client, "failed") == [str(quiz.pk)]
    assert 'id="count-failed">1</span>' in response.content.decode()
    assert rows(client, "all") == [str(quiz.pk), str(graph.pk), str(extraction.pk)]
    everything = client.get(reverse("web:jobs") + "?filter=all").content.decode()
    assert everything.count("Discarded: set aside") == 2
    extraction.refresh_from_db()
    assert extraction.status == "failed" and extraction.discarded_at is not None
    assert "No readable text" in extraction.error and not in_rq_failed_registry(extraction)


def test_discarding_one_run_with_htmx_removes_its_row_and_redraws_the_count(client, alice):
    """The row's Discard button: an answer with no row (so HTMX removes it) and the tab's new count out of band;
    without HTMX, back to the failed view with a note."""
    extraction, graph, _quiz = failed_pipeline(alice)
    client.force_login(alice)
    response = client.post(reverse("web:job_discard", args=[extraction.pk]), {"filter": "failed"}, headers=HTMX)
    answer = Html(response.content.decode())
    assert response.status_code == 200 and not answer.find("tr")
    count = answer.find("span", id="count-failed")[0]
    assert count["hx-swap-oob"] == "true" and answer.text == "2"
    response = client.post(reverse("web:job_discard", args=[graph.pk]), {"filter": "failed"}, follow=True)
    assert "Discarded 1 job; it is still listed under All." in Html(response.content.decode()).text
    assert len(rows(client, "failed")) == 1


def test_a_discarded_run_retried_from_all_runs_again(client, alice):
    """Retry on a discarded run: a fresh budget, back out of the discarded state; failing again, it is a dead
    letter again. Nothing a student asked for is lost by discarding it."""
    extraction, *_ = failed_pipeline(alice)
    client.force_login(alice)
    client.post(reverse("web:jobs_discard"), {"run": [str(extraction.pk)]})
    assert str(extraction.pk) not in rows(client, "failed")
    client.post(reverse("web:job_retry", args=[extraction.pk]))
    extraction.refresh_from_db()
    assert (extraction.status, extraction.attempts, extraction.discarded_at) == ("queued", 0, None)
    drain()
    assert str(extraction.pk) in rows(client, "failed")


def test_discarding_touches_only_the_student_s_own_failed_runs(client, alice, bob):
    """Bob's dead letter posted by Alice stays; his run's own discard URL is a 404 for her; a run that did not
    fail cannot be discarded."""
    bobs = failed_pipeline(bob)
    _document, alices = upload_bytes(alice, SAMPLE.read_bytes())
    drain()
    client.force_login(alice)
    response = client.post(reverse("web:jobs_discard"), {"run": [str(r.pk) for r in bobs]}, follow=True)
    assert "Select the failed jobs to discard." in Html(response.content.decode()).text
    for headers in ({}, HTMX):
        assert client.post(reverse("web:job_discard", args=[bobs[0].pk]), headers=headers).status_code == 404
    assert not JobRun.objects.filter(discarded_at__isnull=False).exists()
    response = client.post(reverse("web:job_discard", args=[alices.pk]), follow=True)
    assert "Only a failed job can be discarded." in Html(response.content.decode()).text
    alices.refresh_from_db()
    assert (alices.status, alices.discarded_at) == ("succeeded", None)
