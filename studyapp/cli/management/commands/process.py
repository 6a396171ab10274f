"""manage.py process FILE.pdf: upload, run the pipeline, draw progress, print the outcome.

Exit status: 0 the document succeeded; 1 it failed with a clear error (or Redis is unreachable);
2 usage errors (no such file, bad options). If no worker serves the queues, the command runs
burst workers itself until the document's runs have finished.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError
from rq import Worker

from jobs.connection import get_queue, get_redis
from jobs.live import live_progress
from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.policies import all_queue_names
from jobs.selectors import pipeline_runs
from studyapp.cli.progressbar import TerminalBars, render_bar
from studyapp.core.errors import PermanentError
from studyapp.documents.models import Document
from studyapp.documents.services import document_summary

POLL_S = 0.2


class Command(BaseCommand):
    help = "Process a PDF through the pipeline with progress bars; --json prints one JSON object at the end."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to a PDF")
        parser.add_argument("--password", default="", help="password of an encrypted PDF (never printed)")
        parser.add_argument("--json", action="store_true", help="print one JSON object with the outcome")
        parser.add_argument("--owner", default=settings.DEMO_USERNAME, help="username that owns the document")
        parser.add_argument("--timeout", type=float, default=3600, help="give up waiting after this many seconds")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}", returncode=2)
        self._check_redis()
        owner, _ = get_user_model().objects.get_or_create(username=options["owner"])
        try:
            with path.open("rb") as fh:
                document, _run = document_upload(owner=owner, upload=fh, filename=path.name,
                                                 password=options["password"])
        except PermanentError as exc:
            return self._finish(options, _rejected_outcome(exc.message))
        self._wait(document, options["timeout"])
        return self._finish(options, _outcome(document))

    def _check_redis(self) -> None:
        try:
            get_redis().ping()
        except RedisError as exc:
            raise CommandError(f"cannot reach Redis at {settings.REDIS_URL}: {exc}", returncode=1) from None

    def _wait(self, document: Document, timeout: float) -> None:
        bars = TerminalBars(self.stderr._out)
        burst_worker: subprocess.Popen | None = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = _pipeline(document)
            bars.draw([render_bar(run.kind, live_progress(run)) for run in runs])
            if runs and all(run.is_finished for run in runs):
                return
            if _needs_worker(runs) and (burst_worker is None or burst_worker.poll() is not None):
                burst_worker = _start_burst_worker()
            time.sleep(POLL_S)
        raise CommandError(f"gave up waiting after {timeout:.0f} s; the document keeps processing", returncode=1)

    def _finish(self, options, outcome: dict) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(outcome))
        else:
            self.stdout.write(_human(outcome))
        if not _succeeded(outcome):
            sys.exit(1)


def _succeeded(outcome: dict) -> bool:
    """The document is ready and every run of its pipeline succeeded."""
    return outcome["status"] == Document.Status.READY and all(j["status"] == "succeeded" for j in outcome["jobs"])


def _needs_worker(runs: list[JobRun]) -> bool:
    """True when work is due and no worker listens on the queues."""
    due = any(run.status == JobRun.Status.QUEUED or (run.status == JobRun.Status.WAITING and
              (run.next_attempt_at is None or run.next_attempt_at.timestamp() <= time.time())) for run in runs)
    if not due:
        return False
    queues = [get_queue(name) for name in all_queue_names()]
    return not any(Worker.count(queue=queue) for queue in queues)


def _start_burst_worker() -> subprocess.Popen:
    manage = Path(settings.BASE_DIR) / "manage.py"
    return subprocess.Popen(
        [sys.executable, str(manage), "rqworker", *all_queue_names(), "--burst", "--with-scheduler"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _outcome(document: Document) -> dict:
    document.refresh_from_db()
    summary = document_summary(document)
    return {
        "document_id": document.pk,
        "status": document.status,
        "pages": summary["pages"],
        "ocr_pages": summary["ocr_pages"],
        "empty_pages": summary["empty_pages"],
        "chars": summary["chars"],
        "error": document.error or None,
        "jobs": [{"kind": r.kind, "status": r.status, "attempts": r.attempts, "error": r.error or None}
                 for r in _pipeline(document)],
    }


def _pipeline(document: Document) -> list[JobRun]:
    """The latest run of each step (extract -> graph -> quiz; a re-run replaces an earlier failure)."""
    return pipeline_runs(document)


def _rejected_outcome(message: str) -> dict:
    return {"document_id": None, "status": Document.Status.FAILED, "pages": 0, "ocr_pages": 0, "empty_pages": 0,
            "chars": 0, "error": message, "jobs": []}


def _human(outcome: dict) -> str:
    if outcome["status"] != Document.Status.READY:
        return f"document {outcome['document_id']}: failed: {outcome['error']}"
    lines = [f"document {outcome['document_id']}: ready, {outcome['pages']} pages "
             f"({outcome['ocr_pages']} OCR, {outcome['empty_pages']} empty), {outcome['chars']} characters"]
    lines += [f"  {job['kind']}: {job['status']}" + (f" ({job['error']})" if job["error"] else "") for job in outcome["jobs"]]
    return "\n".join(lines)
