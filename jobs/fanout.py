"""Big documents fan out (issue 6): one extraction run, many page-range parts, one progress bar.

An `extract_document` run whose document has more than EXTRACT_FANOUT_PAGES pages does not extract
it itself. It submits one `extract_pages` run per range of EXTRACT_FANOUT_CHUNK pages (any worker,
on any machine, takes one: parts read the file through storage) and then *waits*: it is parked in
RQ's scheduled registry (status waiting, no attempt spent) and woken when the last range is in, or
when a part fails. Woken, it assembles the document (services.document_finish) and only then
succeeds, so the graph and quiz runs that wait for it (upstream / RQ dependency) still wait for the
complete document.

- Identity: a part's payload names its parent run and its range, so a parent that runs again
  (woken, recovered, retried) gets its unfinished parts back from submit() instead of new ones.
- Pages are the truth of what is done: a range is complete when all its DocumentPage rows exist
  (unique per document and index, so a retried part or a dead worker never duplicates a page).
- Failure: a part that fails for good (permanent error, or its retries spent) fails the parent
  with the part's reason, which fails the document and the runs downstream; the parent's other
  unfinished parts are cancelled. A transient failure retries that part only. Retrying the
  parent sets its failed parts aside and submits those ranges again.
- Progress: parts write the parent's row (pages stored over all parts, parts done), so admin, web
  and API show one bar for the document; the parts stay out of pipeline and job lists
  (jobs.selectors.PART_KINDS).
- Wake-up: the part that completes the document (or fails) moves the parent from the scheduled
  registry onto its queue. If that races with the parent itself (it is between two looks), the
  parent's own poll (POLL_S) is the safety net.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import JobRun
from jobs.policies import TIERS
from jobs.submit import wake_run
from studyapp.core.errors import PermanentError
from studyapp.core.progress import ProgressCallback
from studyapp.documents.models import Document, DocumentPage

log = logging.getLogger(__name__)

PART_KIND = "extract_pages"
# How often a waiting parent looks by itself: only a safety net, parts wake it when they end.
POLL_S = 5


class WaitForParts(Exception):
    """Raised by the parent's task: park the run (waiting, no attempt spent) for `delay_s`."""

    def __init__(self, delay_s: float, stage: str):
        super().__init__(stage)
        self.delay_s = delay_s
        self.stage = stage


def ranges(page_count: int, chunk: int) -> list[tuple[int, int]]:
    """0-based inclusive (first, last) ranges of `chunk` pages covering the document."""
    return [(first, min(first + chunk, page_count) - 1) for first in range(0, page_count, chunk)]


def parts_of(parent: JobRun):
    """The parent's parts that count: every part except those set aside by a retry of the parent."""
    return JobRun.objects.filter(kind=PART_KIND, payload__parent=str(parent.pk), discarded_at__isnull=True)


def has_parts(parent: JobRun) -> bool:
    return parts_of(parent).exists()


@dataclass(frozen=True)
class State:
    total: int  # pages of the document
    stored: int  # pages stored so far, over all parts
    ranges: list[tuple[int, int]]
    complete: list[bool]  # per range: all its pages stored

    @property
    def parts_done(self) -> int:
        return sum(self.complete)

    @property
    def percent(self) -> float:
        return round(100.0 * self.stored / self.total, 1) if self.total else 0.0

    @property
    def stage(self) -> str:
        # Pages first: a part counts as done only at its end, so "0/4 parts" would sit still for minutes.
        return (f"extracting pages in parallel: {self.stored}/{self.total} pages, "
                f"{self.parts_done}/{len(self.ranges)} parts done")


def state(document_id: int, total: int, chunk: int) -> State:
    indexes = DocumentPage.objects.filter(document_id=document_id).values_list("index", flat=True)
    stored = set(indexes)
    spans = ranges(total, chunk)
    complete = [all(i in stored for i in range(first, last + 1)) for first, last in spans]
    return State(total=total, stored=len(stored), ranges=spans, complete=complete)


# --- the parent --------------------------------------------------------------------------------


def fan_out_or_assemble(run: JobRun, document: Document, progress: ProgressCallback, assemble) -> Any:
    """One look of the parent: submit the missing parts, fail on a failed part, else wait; once
    every range is in, `assemble()` (the domain's document_finish) and return its result."""
    total = Document.objects.filter(pk=document.pk).values_list("page_count", flat=True).get() or 0
    chunk = _chunk_of(run)
    now = state(document.pk, total, chunk)
    if all(now.complete):  # the pages are the truth, whatever a part's run says
        return assemble()
    failed = _failed_part(run)
    if failed is not None:
        raise PermanentError(_part_failure(failed))
    _submit_missing(run, document, now, chunk)
    progress(now.stage, done=now.stored, total=now.total, message=f"{now.stored}/{now.total} pages")
    raise WaitForParts(POLL_S, now.stage)


def _chunk_of(run: JobRun) -> int:
    """The chunk the parent's parts were made with (a setting changed meanwhile does not matter)."""
    return _chunk_of_parent(str(run.pk))


def _chunk_of_parent(parent_id: str) -> int:
    first = JobRun.objects.filter(kind=PART_KIND, payload__parent=parent_id, payload__first=0).values_list(
        "payload", flat=True).first()
    return first["last"] + 1 if first else settings.EXTRACT_FANOUT_CHUNK


def _submit_missing(run: JobRun, document: Document, now: State, chunk: int) -> None:
    """A part for every incomplete range; submit() returns the unfinished part that exists."""
    from jobs.submit import submit  # submit -> runner -> tasks -> here

    tier = _tier_of(run)
    with transaction.atomic():  # the parts are enqueued when this commits
        for (first, last), complete in zip(now.ranges, now.complete):
            if not complete:
                submit(PART_KIND, document, run.owner, {"parent": str(run.pk), "first": first, "last": last}, tier=tier)


def _tier_of(run: JobRun):
    tier = run.queue.rsplit("_", 1)[-1]
    return tier if tier in TIERS else None


def _failed_part(run: JobRun) -> JobRun | None:
    return parts_of(run).filter(status__in=(JobRun.Status.FAILED, JobRun.Status.CANCELLED)).order_by("finished_at").first()


def _part_failure(part: JobRun) -> str:
    first, last = part.payload["first"], part.payload["last"]
    return f"Pages {first + 1}-{last + 1} could not be extracted: {part.error or part.status}"


def cancel_parts(run: JobRun, reason: str) -> None:
    """The parent ended without success: its unfinished parts have nothing left to do."""
    from jobs.control import cancel_run  # control -> runner -> tasks -> here

    for part in parts_of(run).filter(status__in=JobRun.UNFINISHED):
        cancel_run(part, reason=f"cancelled: the document's extraction ended ({reason})"[:500])


def parts_retried(run: JobRun) -> None:
    """The parent is retried: its failed parts are set aside, so the ranges are submitted again."""
    from jobs.recovery import discard_rq_job

    for part in parts_of(run).filter(status__in=(JobRun.Status.FAILED, JobRun.Status.CANCELLED)):
        JobRun.objects.filter(pk=part.pk).update(discarded_at=timezone.now())
        discard_rq_job(part)


# --- the parts ---------------------------------------------------------------------------------


def parent_of(part: JobRun) -> JobRun | None:
    return JobRun.objects.filter(pk=part.payload["parent"]).first()


def part_ended(part: JobRun) -> None:
    """A part succeeded or failed: wake the parent if that is news to it (document complete, or a
    part failed). Never raises: the parent's own poll catches up."""
    try:
        parent = parent_of(part)
        if parent is None or parent.status != JobRun.Status.WAITING:
            return
        failed = JobRun.objects.filter(pk=part.pk, status__in=(JobRun.Status.FAILED, JobRun.Status.CANCELLED)).exists()
        total = Document.objects.filter(pk=part.subject_id).values_list("page_count", flat=True).first() or 0
        if failed or DocumentPage.objects.filter(document_id=part.subject_id).count() >= total:
            # After commit: a failed part is told inside end_run's transaction, and the parent
            # must see the part ended when it wakes (in autocommit this runs at once).
            transaction.on_commit(lambda: wake_run(parent), robust=True)
    except Exception:
        log.exception("could not wake the parent of part %s; it looks again within %s s", part.pk, POLL_S)


class ParentBar:
    """Wraps a part's progress callback: the part's own row as usual, and the parent's bar (pages
    stored over all parts) at most every JOBS_DB_PROGRESS_INTERVAL_S. Only a waiting parent is
    written: a running one (assembling, or looking) writes its own row."""

    def __init__(self, part: JobRun, progress: ProgressCallback, *, clock=time.monotonic):
        self.part = part
        self.progress = progress
        self.clock = clock
        self.interval = settings.JOBS_DB_PROGRESS_INTERVAL_S
        self.last = float("-inf")
        self.parent_id = part.payload["parent"]
        self.chunk = _chunk_of_parent(self.parent_id)
        self.started_at = JobRun.objects.filter(pk=self.parent_id).values_list("started_at", flat=True).first()

    def __call__(self, stage: str, *, done: int | None = None, total: int | None = None, message: str = "") -> None:
        self.progress(stage, done=done, total=total, message=message)
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self.update_parent()

    def update_parent(self) -> None:
        total = Document.objects.filter(pk=self.part.subject_id).values_list("page_count", flat=True).first() or 0
        now = state(self.part.subject_id, total, self.chunk)
        # "parts": the snapshot of a waiting parent, written by its parts; the live views show it
        # (with its ETA) although the parent itself is not running.
        snapshot = {"stage": now.stage, "percent": now.percent, "message": f"{now.stored}/{now.total} pages",
                    "done": now.stored, "total": now.total, "eta_s": self._eta_s(now), "at": time.time(),
                    "parts": True}
        JobRun.objects.filter(pk=self.parent_id, status=JobRun.Status.WAITING).update(
            stage=now.stage[:120], percent=now.percent, message=snapshot["message"], progress=snapshot,
            updated_at=timezone.now())

    def _eta_s(self, now: State) -> float | None:
        """At the rate of all parts together since the parent started; None until a few pages."""
        if self.started_at is None or now.stored < 3 or not now.total:
            return None
        elapsed = (timezone.now() - self.started_at).total_seconds()
        return round(elapsed / now.stored * max(now.total - now.stored, 0), 1)
