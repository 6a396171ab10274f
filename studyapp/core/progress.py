"""The progress callback every long domain service accepts.

Services call `progress(stage, done=i, total=n, message=...)` at real milestones; they never know
whether the caller is an RQ job, a management command or a test.
"""

from __future__ import annotations

from typing import Protocol


class ProgressCallback(Protocol):
    def __call__(
        self, stage: str, *, done: int | None = None, total: int | None = None, message: str = ""
    ) -> None: ...


def no_progress(stage: str, *, done: int | None = None, total: int | None = None, message: str = "") -> None:
    """A callback for callers that do not watch progress."""
