"""One execution per run: the claim is a lease held and renewed by the executing process.

In-process: a live lease keeps the reconciler away even when Redis forgot the job; an execution whose
lease was taken over stops at its next progress point and records nothing. With real forking
workers: Redis killed and restarted empty in the middle of a long extraction, and exactly one
execution reaches success.
"""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from jobs.connection import get_redis
from jobs.lease import new_lease
from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.recovery import ENQUEUE_GRACE, recover_lost_runs
from jobs.submit import submit
from tests.jobs.helpers import drain, wait_for
from tests.jobs.test_runner import noop_policy  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)


def running_with_lease(owner, *, expires_in_s: float) -> JobRun:
    run = submit("noop", owner, owner)
    token, _ = new_lease()
    JobRun.objects.filter(pk=run.pk).update(
        status=JobRun.Status.RUNNING, attempts=1, started_at=timezone.now(), lease_token=token,
        lease_expires_at=timezone.now() + timedelta(seconds=expires_in_s),
        updated_at=timezone.now() - ENQUEUE_GRACE * 2)
    return JobRun.objects.get(pk=run.pk)


def test_a_live_lease_keeps_the_reconciler_away_even_when_redis_forgot_everything(alice, noop_policy):
    noop_policy(lambda run, progress: "ok")
    run = running_with_lease(alice, expires_in_s=60)
    get_redis().flushall()
    for _ in range(3):  # first sighting, then again: never lost while the lease is live
        assert recover_lost_runs() == []
    JobRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    recovered = recover_lost_runs() or recover_lost_runs()
    assert recovered == [str(run.pk)]
    assert JobRun.objects.get(pk=run.pk).lease_token == ""  # the old execution may write nothing more


def test_an_execution_whose_lease_was_taken_over_stops_and_records_nothing(alice, noop_policy):
    steps = []

    def behaviour(run, progress):
        progress("reading", done=1, total=3)
        steps.append(1)
        JobRun.objects.filter(pk=run.pk).update(lease_token="another-execution")  # a takeover
        progress("writing", done=2, total=3)  # stops here
        steps.append(2)

    noop_policy(behaviour)
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert steps == [1]
    assert (run.status, run.lease_token, run.stage) == ("running", "another-execution", "reading")


def test_success_is_recorded_only_while_the_lease_is_held(alice, noop_policy):
    def behaviour(run, progress):
        JobRun.objects.filter(pk=run.pk).update(lease_token="another-execution")
        return "done"

    noop_policy(behaviour)
    run = submit("noop", alice, alice)
    drain()
    run.refresh_from_db()
    assert run.status == "running" and run.finished_at is None


def scanned_pdf(pages: int) -> bytes:
    """`pages` image-only pages with a line of text each: OCR makes each take a while."""
    images = []
    for n in range(pages):
        image = Image.new("L", (1240, 1754), 255)
        ImageDraw.Draw(image).text((100, 200 + n), f"Scanned page number {n + 1} of the lease test.", fill=0)
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=150)
    return out.getvalue()


@pytest.mark.slow
def test_a_redis_outage_mid_run_never_gives_a_live_run_a_second_execution(alice, start_worker, redis_server):
    fast = {"JOBS_HEARTBEAT_INTERVAL_S": "1", "JOBS_HEARTBEAT_GRACE_S": "3", "JOBS_RECOVERY_INTERVAL_S": "2",
            "EXTRACT_FANOUT_PAGES": "1000", "PIPELINE_AUTO_GRAPH": "0"}
    cpu = ("cpu_high", "cpu_default", "cpu_low")
    first = start_worker(*cpu, extra_env=fast)
    document, run = document_upload(owner=alice, upload=io.BytesIO(scanned_pdf(24)), filename="scan.pdf")
    wait_for(lambda: document.pages.count() >= 2, 60, "the extraction to be under way")

    redis_server.process.kill()  # kill -9, and back empty on the same port a while later
    redis_server.process.wait(10)
    time.sleep(5)
    redis_server.start()
    second = start_worker(*cpu, extra_env=fast)

    wait_for(lambda: JobRun.objects.get(pk=run.pk).is_finished, 180, "the extraction to finish")
    run.refresh_from_db()
    document.refresh_from_db()
    assert (run.status, document.status) == ("succeeded", "ready"), run.error
    assert sorted(document.pages.values_list("index", flat=True)) == list(range(24))
    logs = "".join(open(worker.log_path, errors="replace").read() for worker in (first, second))
    assert logs.count(f"run {run.pk} succeeded") == 1, "exactly one execution reached success"
