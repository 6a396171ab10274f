"""Errors that carry their nature.

Domain services raise these; the job layer (jobs/runner.py) decides what each means for a run:
a PermanentError fails at once, a TransientError is retried with backoff, RateLimited waits
without spending an attempt. Their messages are shown to students, so they say what went wrong
in plain words and never include secrets.
"""

from __future__ import annotations


class StudyappError(Exception):
    """Base of every error the domain raises on purpose.

    `operator_detail` is for operators only (which setting to fix): the job layer keeps it on the
    run's operator note and in the log, never where a student reads.
    """

    def __init__(self, message: str, *, operator_detail: str = ""):
        super().__init__(message)
        self.message = message
        self.operator_detail = operator_detail

    def __str__(self) -> str:
        return self.message


class PermanentError(StudyappError):
    """Bad input or a request that can never succeed: retrying would not help."""


class TransientError(StudyappError):
    """Something outside our control failed (network, timeout, lost worker): worth retrying."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(StudyappError):
    """A limit says 'not now': try again after `retry_after` seconds, without spending an attempt.
    `stage` is what the run shows meanwhile."""

    def __init__(self, message: str = "rate limited", retry_after: float = 1.0, *,
                 stage: str = "waiting: rate limited"):
        super().__init__(message)
        self.retry_after = max(float(retry_after), 0.0)
        self.stage = stage


class Cancelled(StudyappError):
    """The user cancelled the work; raised at the next progress point."""

    def __init__(self, message: str = "cancelled by the user"):
        super().__init__(message)


class NotFound(PermanentError):
    """What was asked for does not exist, or belongs to someone else (the two look the same)."""


class Conflict(PermanentError):
    """The request does not fit the current state (e.g. retrying a job that has not failed)."""
