"""The periodic maintenance jobs (schedules and policies: jobs.policies.PERIODIC).

Plain RQ functions rather than JobRuns (why: the comment above PERIODIC in jobs/policies.py).
Each one is idempotent: running it twice, or two at once, leaves the same result.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rq.registry import clean_registries

from jobs.connection import get_queue
from jobs.models import JobRun, UsageDaily
from jobs.policies import POLICIES
from jobs.recovery import recover_lost_runs
from studyapp.documents.cleanup import orphaned_files_delete
from studyapp.webhooks.models import WebhookDelivery

log = logging.getLogger(__name__)

# An orphaned file must be at least this old: an upload saves its file before its row commits.
ORPHAN_GRACE = timedelta(days=1)
# Roll-ups recompute whole days from the runs; runs are kept far longer than this, so a day is
# always recomputed from all of its runs.
ROLLUP_DAYS = 2
DELIVERY_RETENTION = timedelta(days=30)


def reconcile() -> dict:
    handled = recover_lost_runs()
    return {"handled": len(handled)}


def retention_cleanup(now: datetime | None = None) -> dict:
    """Finished runs past their kind's retention, RQ's expired registry entries, old webhook
    deliveries and orphaned files. Failed runs still in the dead-letter view are kept."""
    from django.conf import settings

    now = now or timezone.now()
    usage_rollup(now=now)  # the totals of runs about to go are safe in UsageDaily first
    runs = 0
    for kind, policy in POLICIES.items():
        expired = JobRun.objects.filter(kind=kind, status__in=JobRun.FINISHED,
                                        finished_at__lt=now - timedelta(days=policy.run_retention_days))
        expired = expired.exclude(status=JobRun.Status.FAILED, discarded_at__isnull=True)
        runs += expired.delete()[0]
    for name in settings.JOB_QUEUE_NAMES:
        clean_registries(get_queue(name))
    deliveries = WebhookDelivery.objects.filter(created_at__lt=now - DELIVERY_RETENTION).exclude(
        status=WebhookDelivery.Status.PENDING).delete()[0]
    files = orphaned_files_delete(older_than=now - ORPHAN_GRACE)
    summary = {"runs": runs, "deliveries": deliveries, "files": files}
    log.info("retention cleanup: deleted %(runs)d run(s), %(deliveries)d delivery record(s), %(files)d file(s)",
             summary)
    return summary


def usage_rollup(now: datetime | None = None, days: int = ROLLUP_DAYS) -> dict:
    """Provider tokens per owner and day (UTC) for the last `days` days, recomputed from the runs."""
    now = now or timezone.now()
    first_day = (now - timedelta(days=days - 1)).date()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    totals: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    runs = JobRun.objects.filter(finished_at__gte=start).filter(~Q(usage={})).values_list(
        "owner_id", "finished_at", "usage")
    for owner_id, finished_at, usage in runs:
        row = totals[(owner_id, timezone.localtime(finished_at).date())]
        row[0] += 1
        row[1] += int((usage or {}).get("prompt_tokens", 0))
        row[2] += int((usage or {}).get("completion_tokens", 0))
    with transaction.atomic():
        for row in UsageDaily.objects.filter(day__gte=first_day):
            if (row.owner_id, row.day) not in totals:
                row.delete()  # its runs are gone (e.g. the owner's documents were deleted)
        for (owner_id, day), (count, prompt, completion) in totals.items():
            UsageDaily.objects.update_or_create(owner_id=owner_id, day=day, defaults={
                "runs": count, "prompt_tokens": prompt, "completion_tokens": completion})
    return {"days": days, "rows": len(totals)}
