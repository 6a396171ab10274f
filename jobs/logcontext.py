"""Every log line written while a job runs names the run, its kind and the attempt.

The runner sets the context (a contextvar, so threads started by a job do not inherit a stale
one by accident) and `JobContextFilter`, attached to the log handlers in settings.LOGGING, copies
it onto each record: fields `run_id`, `kind`, `attempt` (in the JSON format), and `job`, the three
together for the plain format. Outside a job the fields are "-" and `job` is empty.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from typing import Iterator

_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("studyapp_job_context", default=None)
FIELDS = ("run_id", "kind", "attempt")


@contextlib.contextmanager
def job_context(*, run_id: str, kind: str, attempt: int | str) -> Iterator[dict]:
    """Inside the worker's context for the same job (jobs.worker), fill that one in, so RQ's own
    lines after the job ("Job OK") carry the attempt too."""
    outer = _context.get()
    if outer is not None and outer["run_id"] == run_id:
        outer.update(kind=kind, attempt=attempt)
        yield outer
        return
    context = {"run_id": run_id, "kind": kind, "attempt": attempt}
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def set_attempt(attempt: int) -> None:
    """The attempt is known only once the runner has claimed the run."""
    context = _context.get()
    if context is not None:
        context["attempt"] = attempt


def current() -> dict | None:
    return _context.get()


class JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get() or {}
        for field in FIELDS:
            if not hasattr(record, field):
                setattr(record, field, context.get(field, "-"))
        # For the plain format: " [run=... kind=... attempt=...]" inside a job, nothing outside.
        record.job = (f" [run={record.run_id} kind={record.kind} attempt={record.attempt}]"
                      if context else "")
        return True
