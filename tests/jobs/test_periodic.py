"""Periodic jobs: registered once per id by the scheduler, one leader, and what each one does."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import django_rq
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from rq_scheduler.utils import to_unix

from jobs import maintenance
from jobs.connection import get_queue, get_redis
from jobs.models import JobRun, UsageDaily
from jobs.policies import PERIODIC
from jobs.scheduler import ensure_periodic_jobs, periodic_id, register_periodic_jobs
from jobs.submit import submit
from studyapp.documents.models import Document
from tests.conftest import REPO, pdf_path
from tests.jobs.helpers import drain
from tests.jobs.test_runner import noop_policy  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)


def scheduler():
    return django_rq.get_scheduler("cpu_low")


def periodic_entries(s) -> list[str]:
    return sorted(job.id for job in s.get_jobs() if job.id.startswith("studyapp-periodic-"))


def test_the_scheduler_class_is_ours():
    """`manage.py rqscheduler` builds its scheduler from settings.RQ['SCHEDULER_CLASS']."""
    from jobs.scheduler import Scheduler

    assert isinstance(scheduler(), Scheduler)


def test_registering_twice_replaces_and_never_duplicates():
    """Stable ids: a second registration (a restart, a second scheduler) leaves one entry each."""
    s = scheduler()
    register_periodic_jobs(s)
    register_periodic_jobs(s)
    assert periodic_entries(s) == sorted(periodic_id(kind) for kind in PERIODIC)
    reconcile = s.job_class.fetch(periodic_id("reconcile"), connection=s.connection)
    assert reconcile.meta["cron_string"] == "* * * * *" and reconcile.origin == "cpu_low"


def test_an_entry_no_longer_in_the_policies_is_removed():
    """A renamed or dropped periodic job does not keep firing after a deploy."""
    s = scheduler()
    s.cron("* * * * *", func=print, id=periodic_id("old_kind"), queue_name="cpu_low")
    register_periodic_jobs(s)
    assert periodic_id("old_kind") not in periodic_entries(s)


def test_entries_lost_in_a_flush_are_put_back_at_the_next_pass():
    """FLUSHALL takes the schedule with it; the scheduler's next pass registers it again."""
    s = scheduler()
    register_periodic_jobs(s)
    get_redis().flushall()
    assert periodic_entries(s) == []
    s.enqueue_jobs()
    assert periodic_entries(s) == sorted(periodic_id(kind) for kind in PERIODIC)
    assert ensure_periodic_jobs(s) == []


def test_only_the_lock_holder_moves_due_jobs():
    """rq-scheduler's lock: while one scheduler holds it, another cannot take it."""
    first, second = scheduler(), scheduler()
    assert first.acquire_lock()
    assert not second.acquire_lock()
    first.remove_lock()
    assert second.acquire_lock()
    second.remove_lock()


@pytest.mark.slow
def test_two_scheduler_processes_fire_each_due_entry_once(worker_env, tmp_path):
    """Two `manage.py rqscheduler` processes; each time the entry falls due it is queued once."""
    redis = get_redis()
    processes = [subprocess.Popen([sys.executable, str(REPO / "manage.py"), "rqscheduler", "--interval", "1",
                                   "--queue", "cpu_low"], env=worker_env, cwd=REPO,
                                  stdout=open(tmp_path / f"scheduler-{i}.log", "wb"), stderr=subprocess.STDOUT)
                  for i in range(2)]
    try:
        entry = periodic_id("usage_rollup")
        key = scheduler().scheduled_jobs_key
        deadline = time.monotonic() + 90  # two Django start-ups on a busy 2-core machine
        while not all(b"registered periodic jobs" in (tmp_path / f"scheduler-{i}.log").read_bytes()
                      for i in range(2)):
            assert time.monotonic() < deadline, "the schedulers did not start"
            time.sleep(0.1)
        assert redis.zscore(key, entry) is not None
        for round_ in range(1, 6):
            redis.zadd(key, {entry: to_unix(timezone.now().replace(tzinfo=None)) - 1})  # due now
            deadline = time.monotonic() + 10
            while get_queue("cpu_low").get_job_ids().count(entry) < round_ and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.5)  # both schedulers pass at least once more
            assert get_queue("cpu_low").get_job_ids().count(entry) == round_
    finally:
        for proc in processes:
            proc.terminate()
            proc.wait(10)
        # Shown by pytest only when the test failed.
        print("".join(Path(tmp_path / f"scheduler-{i}.log").read_text(errors="replace")[-3000:] for i in range(2)))


# --- what the periodic jobs do ------------------------------------------------------------------


def finished(owner, *, kind="noop", status="succeeded", days_ago: float, usage=None, n=0, discarded=False) -> JobRun:
    run = submit("noop", owner, owner, {"n": n})
    when = timezone.now() - timedelta(days=days_ago)
    JobRun.objects.filter(pk=run.pk).update(kind=kind, status=status, started_at=when - timedelta(seconds=5),
                                            finished_at=when, usage=usage or {},
                                            discarded_at=when if discarded else None)
    return JobRun.objects.get(pk=run.pk)


def test_retention_deletes_finished_runs_past_their_kind_s_retention(alice):
    """Per kind (jobs/policies.py); dead letters stay until discarded; unfinished runs always stay."""
    old_noop = finished(alice, days_ago=31, n=1)
    recent_noop = finished(alice, days_ago=29, n=2)
    old_delivery = finished(alice, kind="deliver_webhook", days_ago=15, n=3)  # 14 days for webhooks
    dead_letter = finished(alice, status="failed", days_ago=90, n=4)
    discarded = finished(alice, status="failed", days_ago=90, n=5, discarded=True)
    unfinished = submit("noop", alice, alice, {"n": 6})
    summary = maintenance.retention_cleanup()
    left = set(JobRun.objects.values_list("pk", flat=True))
    assert left == {recent_noop.pk, dead_letter.pk, unfinished.pk}
    assert summary["runs"] == 3
    assert {old_noop.pk, old_delivery.pk, discarded.pk}.isdisjoint(left)


def test_retention_deletes_orphaned_files_but_not_documents_or_fresh_uploads(alice, settings):
    """A file no Document refers to goes once it is older than a day; referenced files stay."""
    from jobs.pipelines import document_upload

    with pdf_path("pdflatex-4-pages.pdf").open("rb") as fh:
        document, _ = document_upload(owner=alice, upload=fh, filename="a.pdf")
    old_orphan = default_storage.save("documents/2020/01/orphan.pdf", ContentFile(b"%PDF-1.4 orphan"))
    fresh_orphan = default_storage.save("documents/2020/01/uploading.pdf", ContentFile(b"%PDF-1.4 fresh"))
    two_days_ago = time.time() - 2 * 86400
    import os

    os.utime(default_storage.path(old_orphan), (two_days_ago, two_days_ago))
    os.utime(default_storage.path(document.file.name), (two_days_ago, two_days_ago))
    assert maintenance.retention_cleanup()["files"] == 1
    assert not default_storage.exists(old_orphan)
    assert default_storage.exists(fresh_orphan) and default_storage.exists(document.file.name)
    assert Document.objects.get(pk=document.pk).file.read().startswith(b"%PDF")


def test_retention_cleans_rq_registries(alice, noop_policy):
    """Expired entries in RQ's registries are removed."""
    noop_policy(lambda run, progress: "ok")
    run = submit("noop", alice, alice)
    drain()
    registry = get_queue(run.queue).finished_job_registry
    get_redis().zadd(registry.key, {"expired-job-id": 1})
    assert "expired-job-id" in registry.get_job_ids(cleanup=False)
    maintenance.retention_cleanup()
    assert "expired-job-id" not in registry.get_job_ids(cleanup=False)


def test_the_usage_roll_up_sums_tokens_per_owner_and_day_and_is_idempotent(alice, bob):
    """Tokens of runs that ended today and yesterday, per owner; a second run changes nothing."""
    finished(alice, days_ago=0, usage={"prompt_tokens": 100, "completion_tokens": 10}, n=1)
    finished(alice, days_ago=0, usage={"prompt_tokens": 50, "completion_tokens": 5}, n=2)
    finished(alice, days_ago=0, n=3)  # no provider calls
    finished(bob, days_ago=1, usage={"prompt_tokens": 7, "completion_tokens": 3}, n=4)
    for _ in range(2):
        maintenance.usage_rollup()
        rows = {(r.owner.username, (timezone.now().date() - r.day).days): (r.runs, r.prompt_tokens,
                                                                          r.completion_tokens)
                for r in UsageDaily.objects.all()}
        assert rows == {("alice", 0): (2, 150, 15), ("bob", 1): (1, 7, 3)}


def test_reconcile_is_the_reconciler(alice, noop_policy):
    """The periodic reconcile re-enqueues a run Redis lost."""
    noop_policy(lambda run, progress: "ok")
    run = submit("noop", alice, alice)
    get_redis().flushall()
    JobRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert maintenance.reconcile() == {"handled": 1}
    drain()
    run.refresh_from_db()
    assert run.status == "succeeded"
