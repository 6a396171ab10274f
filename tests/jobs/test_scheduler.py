"""rq-scheduler 0.14 works with rq 3.0 through django-rq (the reason we could take rq 3.0)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import django_rq
import pytest

from jobs.connection import get_queue

pytestmark = pytest.mark.django_db


def test_rq_scheduler_moves_a_due_job_onto_its_queue():
    """A job scheduled in the past is enqueued by one scheduler pass; a future one waits."""
    scheduler = django_rq.get_scheduler("cpu_low")
    due = scheduler.enqueue_at(datetime.now(timezone.utc) - timedelta(seconds=1), print, "due")
    later = scheduler.enqueue_in(timedelta(hours=1), print, "later")
    scheduler.enqueue_jobs()
    queued = get_queue("cpu_low").get_job_ids()
    assert due.id in queued and later.id not in queued
    assert later in scheduler


def test_rq_scheduler_cron_jobs_register_once_per_id():
    """A cron entry with a stable id can be replaced without duplicates (used by issue 6)."""
    scheduler = django_rq.get_scheduler("cpu_low")
    for _ in range(2):
        if "studyapp-test-cron" in scheduler:
            scheduler.cancel("studyapp-test-cron")
        scheduler.cron("* * * * *", func=print, args=["tick"], id="studyapp-test-cron", queue_name="cpu_low")
    assert [job.id for job in scheduler.get_jobs()].count("studyapp-test-cron") == 1
