"""The operator's admin pages: dead letters, queues (pause, resume, drain) and the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from jobs import control
from jobs.connection import get_queue
from jobs.models import JobRun
from jobs.submit import submit
from studyapp.core.errors import PermanentError
from tests.jobs.helpers import drain
from tests.jobs.test_runner import noop_policy  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)

DEAD = "/admin/jobs/deadletter/"
QUEUES = "/admin/jobs/jobrun/queues/"


def broken(run, progress):
    raise PermanentError(f"broken input {run.payload['n']}")


def failed(owner, n: int) -> list[JobRun]:
    runs = [submit("noop", owner, owner, {"n": i}) for i in range(n)]
    drain()
    return runs


def test_the_dead_letter_view_lists_failed_runs_with_error_and_attempts(admin_client, alice, noop_policy):
    """Only failed runs, with their error and attempts; a succeeded run is not there."""
    noop_policy(broken)
    runs = failed(alice, 2)
    noop_policy(lambda run, progress: "ok")
    ok = submit("noop", alice, alice, {"n": 99})
    drain()
    page = admin_client.get(DEAD).content.decode()
    for run in runs:
        assert str(run.id)[:8] in page
    assert "broken input 0" in page and "broken input 1" in page and "1/3" in page
    assert str(ok.id)[:8] not in page


def test_requeueing_from_the_dead_letters_runs_them_again(admin_client, alice, noop_policy):
    """The requeue action on two selected runs puts both back on their queue."""
    noop_policy(broken)
    runs = failed(alice, 2)
    response = admin_client.post(DEAD, {"action": "requeue_selected", "_selected_action": [str(r.id) for r in runs]},
                                 follow=True)
    assert "Requeued 2 run(s)." in response.content.decode()
    assert set(JobRun.objects.values_list("status", flat=True)) == {"queued"}
    assert get_queue("cpu_low").count == 2


def test_discarding_keeps_the_run_but_takes_it_out_of_the_dead_letters(admin_client, alice, noop_policy):
    """Discarded: still in the run list as failed, no longer a dead letter."""
    noop_policy(broken)
    first, second = failed(alice, 2)
    response = admin_client.post(DEAD, {"action": "discard_selected", "_selected_action": [str(first.id)]},
                                 follow=True)
    assert "Discarded 1 run(s)." in response.content.decode()
    page = admin_client.get(DEAD).content.decode()
    assert str(first.id)[:8] not in page and str(second.id)[:8] in page
    assert str(first.id)[:8] in admin_client.get("/admin/jobs/jobrun/?status=failed").content.decode()


def test_pausing_and_resuming_from_the_queues_page(admin_client):
    """The buttons suspend and resume RQ's workers; the page says which state it is in."""
    assert "Processing is <strong>running</strong>" in admin_client.get(QUEUES).content.decode()
    response = admin_client.post(QUEUES, {"action": "pause"}, follow=True)
    assert control.processing_paused()
    assert "Processing is <strong>paused</strong>" in response.content.decode()
    admin_client.post(QUEUES, {"action": "resume"})
    assert not control.processing_paused()


def test_draining_asks_for_confirmation_then_cancels_the_runs_with_the_reason(admin_client, alice, noop_policy):
    """GET shows what will happen and changes nothing; the confirmed POST drains the queue."""
    noop_policy(lambda run, progress: "ok")
    runs = [submit("noop", alice, alice, {"n": i}) for i in range(2)]
    url = "/admin/jobs/jobrun/queues/cpu_low/drain/"
    confirm = admin_client.get(url).content.decode()
    assert "Drain the queue <strong>cpu_low</strong>?" in confirm and "2 waiting job(s)" in confirm
    assert get_queue("cpu_low").count == 2
    admin_client.post(url, {})  # not confirmed
    assert get_queue("cpu_low").count == 2
    response = admin_client.post(url, {"confirm": "yes"}, follow=True)
    assert "Drained cpu_low: 2 job(s) removed, 2 run(s) cancelled." in response.content.decode()
    for run in runs:
        run.refresh_from_db()
        assert run.status == "cancelled" and "drained by an operator" in run.error


def test_queue_actions_need_the_permission_to_change_runs(client, django_user_model):
    """A staff user who may only view runs sees the queues but cannot pause or drain."""
    viewer = django_user_model.objects.create_user("viewer", password="viewer-password-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    client.force_login(viewer)
    page = client.get(QUEUES)
    assert page.status_code == 200 and "Pause processing" not in page.content.decode()
    assert client.post(QUEUES, {"action": "pause"}).status_code == 403
    assert client.post("/admin/jobs/jobrun/queues/cpu_low/drain/", {"confirm": "yes"}).status_code == 403
    assert not control.processing_paused()


def test_the_admin_index_shows_success_rate_percentiles_queues_and_workers(admin_client, alice, noop_policy):
    """Per kind over the last day: success rate and p50/p95 duration; depth per queue."""
    noop_policy(lambda run, progress: "ok")
    now = timezone.now()
    for n, (status, seconds) in enumerate([("succeeded", 10), ("succeeded", 20), ("succeeded", 30),
                                           ("failed", 5)]):
        run = submit("noop", alice, alice, {"n": n})
        JobRun.objects.filter(pk=run.pk).update(status=status, started_at=now - timedelta(seconds=seconds),
                                                finished_at=now)
    old = submit("noop", alice, alice, {"n": 50})
    JobRun.objects.filter(pk=old.pk).update(status="failed", started_at=now - timedelta(days=2),
                                            finished_at=now - timedelta(days=2))
    submit("noop", alice, alice, {"n": 60})
    assert get_queue("cpu_low").count == 6  # every run above was enqueued when submitted
    page = admin_client.get("/admin/").content.decode()
    assert 'id="jobs-dashboard"' in page
    row = "".join(page.split('<tr data-kind="noop">')[1].split("</tr>")[0].split())
    assert "<td>4</td><td>3</td><td>1</td>" in row  # ended, succeeded, failed (the 2-day-old one is out)
    assert '75.0%' in row and '<tdclass="p50">20.0s</td>' in row and '<tdclass="p95">29.0s</td>' in row
    queue_row = page.split('<tr data-queue="cpu_low">')[1].split("</tr>")[0]
    assert '<td class="queued">6</td>' in queue_row
    assert "0 worker(s) alive" in page


def test_staff_who_may_view_runs_see_the_dead_letters_but_cannot_requeue(client, django_user_model, alice,
                                                                         noop_policy):
    """The JobRun permissions govern the dead-letter view: viewing yes, actions no."""
    noop_policy(broken)
    (run,) = failed(alice, 1)
    viewer = django_user_model.objects.create_user("viewer", password="viewer-password-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    client.force_login(viewer)
    page = client.get(DEAD)
    assert page.status_code == 200 and str(run.id)[:8] in page.content.decode()
    client.post(DEAD, {"action": "requeue_selected", "_selected_action": [str(run.id)]})
    run.refresh_from_db()
    assert run.status == "failed"
