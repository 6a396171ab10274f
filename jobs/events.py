"""What happens when a document's pipeline is over: its owner's webhooks are told.

The runner calls `run_ended` whenever a run ends (success, failure, cancellation; also when
recovery or a cancel ends it). A pipeline is the tree of runs hanging off a document's extraction
through `upstream`; it is over when none of them is unfinished. The occurrence is identified by
how each run ended, so the two last runs of a pipeline ending at once record one event, and a
pipeline that is retried and ends again records a new one.
"""

from __future__ import annotations

import hashlib
import logging

from django.db import transaction
from django.utils import timezone

from jobs.models import JobRun
from jobs.selectors import PART_KINDS
from jobs.submit import submit
from studyapp.documents.models import Document
from studyapp.webhooks.models import Webhook
from studyapp.webhooks.services import deliveries_create

log = logging.getLogger(__name__)

READY, FAILED = "document.ready", "document.failed"
# A page-range part (jobs.fanout) ends inside its parent's pipeline, which reports for it.
_NOT_PIPELINE_KINDS = {"deliver_webhook", "noop", *PART_KINDS}


def run_ended(run: JobRun) -> None:
    """Never lets a webhook problem reach the run that ended."""
    if run.kind in _NOT_PIPELINE_KINDS:
        return
    try:
        if Webhook.objects.filter(owner_id=run.owner_id, active=True).exists():
            _notify(run)
    except Exception:
        log.exception("could not record the webhook event for run %s", run.pk)


def _notify(run: JobRun) -> None:
    root = _root(run)
    if root.subject_type.model_class() is not Document:
        return
    tree = _tree(root)
    if any(r.status in JobRun.UNFINISHED for r in tree):
        return
    document = Document.objects.get(pk=root.subject_id)
    outcome = "succeeded" if all(r.status == JobRun.Status.SUCCEEDED for r in tree) else (
        "cancelled" if any(r.status == JobRun.Status.CANCELLED for r in tree) else "failed")
    event = READY if outcome == "succeeded" else FAILED
    payload = _payload(event, outcome, document, tree)
    with transaction.atomic():
        for delivery in deliveries_create(owner=root.owner, event=event, event_key=_event_key(root, tree),
                                          payload=payload):
            submit("deliver_webhook", delivery, root.owner)


def _root(run: JobRun) -> JobRun:
    """The first run of the pipeline, as the database has it now (not the caller's copy)."""
    root = JobRun.objects.select_related("subject_type").get(pk=run.pk)
    seen = {root.pk}
    while root.upstream_id and root.upstream_id not in seen:
        seen.add(root.upstream_id)
        root = JobRun.objects.select_related("subject_type").get(pk=root.upstream_id)
    return root


def _tree(root: JobRun) -> list[JobRun]:
    tree, frontier = [root], [root.pk]
    while frontier:
        children = list(JobRun.objects.filter(upstream_id__in=frontier))
        tree += children
        frontier = [c.pk for c in children]
    return tree


def _event_key(root: JobRun, tree: list[JobRun]) -> str:
    endings = ",".join(sorted(f"{r.pk}:{r.status}:{r.finished_at.isoformat() if r.finished_at else ''}" for r in tree))
    return f"pipeline:{root.pk}:{hashlib.sha256(endings.encode()).hexdigest()[:24]}"


def _payload(event: str, outcome: str, document: Document, tree: list[JobRun]) -> dict:
    return {
        "event": event,
        "occurred_at": timezone.now().isoformat(),
        "outcome": outcome,
        "document": {"id": document.pk, "title": document.title, "status": document.status,
                     "pages": document.page_count, "error": document.error},
        "runs": [{"id": str(r.pk), "kind": r.kind, "status": r.status, "attempts": r.attempts, "error": r.error}
                 for r in sorted(tree, key=lambda r: r.created_at)],
    }
