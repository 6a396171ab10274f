"""Live progress of runs for the admin and other interfaces: the row's state plus job.meta.

job.meta is the freshest (written at every progress step); the row is at most about a second
behind. For running runs we read the meta from Redis and fall back to the row if Redis is away.
"""

from __future__ import annotations

from typing import Any, Iterable

from django.utils.html import format_html
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job

from jobs.connection import get_redis
from jobs.models import JobRun
from jobs.progress import META_KEY


def live_progress(run: JobRun) -> dict[str, Any]:
    # Only a running run's last snapshot describes what it is doing now. Once it ended, waits for
    # a retry or is queued again, the row's own stage ("done", "retrying in 8s", "queued (retry)")
    # and percent are the truth, not the step it was at when the snapshot was taken.
    progress: dict[str, Any] = {}
    if run.status == JobRun.Status.RUNNING:
        progress = dict(run.progress or {})
        progress.update(_meta_progress(run))
    elif run.status == JobRun.Status.WAITING and (run.progress or {}).get("parts"):
        progress = dict(run.progress)  # a big document's parent: its parts keep its bar and ETA moving
    percent = 100.0 if run.status == JobRun.Status.SUCCEEDED else progress.get("percent") or run.percent or 0.0
    return {
        "id": str(run.id),
        "kind": run.kind,
        "status": run.status,
        "finished": run.is_finished,
        "stage": progress.get("stage") or run.stage,
        "percent": round(float(percent), 1),
        "message": progress.get("message") or run.message,
        "done": progress.get("done"),
        "total": progress.get("total"),
        "eta_s": progress.get("eta_s"),
        "attempts": run.attempts,
        "max_attempts": run.max_attempts,
        "error": run.error,
    }


def _meta_progress(run: JobRun) -> dict[str, Any]:
    try:
        job = Job.fetch(str(run.id), connection=get_redis(run.queue))
        return job.get_meta(refresh=False).get(META_KEY) or {}
    except (NoSuchJobError, RedisError):
        return {}


def progress_bar(run: JobRun | None) -> str:
    """The HTML progress bar the admin shows; jobs/static/jobs/live_progress.js keeps it current."""
    if run is None:
        return "-"
    state = live_progress(run)
    return format_html(
        '<div class="jobrun-live" data-run="{}" data-finished="{}">'
        '<progress max="100" value="{}" style="width:10em"></progress> '
        '<span class="jobrun-status jobrun-{}">{}</span> · <span class="jobrun-stage">{}</span>'
        "</div>",
        state["id"], "1" if state["finished"] else "0", state["percent"], state["status"], state["status"],
        _stage_text(state),
    )


def _stage_text(state: dict[str, Any]) -> str:
    text = state["stage"] or ""
    if state.get("eta_s") and state["eta_s"] >= 1 and not state["finished"]:
        text += f" (about {int(state['eta_s'])} s left)"
    if state["status"] == JobRun.Status.FAILED and state["error"]:
        text = state["error"]
    return text


def live_states(ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    states = {}
    for run in JobRun.objects.filter(pk__in=list(ids)[:200]):
        state = live_progress(run)
        states[state["id"]] = {**state, "text": _stage_text(state)}
    return states
