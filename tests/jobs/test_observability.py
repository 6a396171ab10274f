"""/metrics content and access, and the run id, kind and attempt on every log line of a job."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jobs.logcontext import JobContextFilter
from jobs.models import JobRun
from jobs.submit import submit
from studyapp.core.errors import RateLimited, TransientError
from studyapp.ai.schemas import Usage
from tests.jobs.helpers import drain, release_scheduled
from tests.jobs.test_runner import noop_policy  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db(transaction=True)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def test_metrics_need_a_staff_session_or_the_bearer_token(client, admin_client, alice, settings):
    """Anonymous and non-staff users get 401; staff and the configured token get the metrics."""
    settings.METRICS_TOKEN = "prom-token-123"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    client.force_login(alice)
    assert client.get("/metrics").status_code == 401
    client.logout()
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer prom-token-123").status_code == 200
    assert admin_client.get("/metrics").status_code == 200
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_metrics_show_queues_runs_durations_attempts_waits_and_tokens(admin_client, alice, noop_policy):
    """A success, a retried failure, a rate-limit wait, provider tokens and a queued run, all counted."""
    from jobs.tasks import record_usage

    outcomes = {1: [None], 2: [TransientError("blip"), None], 3: [RateLimited(retry_after=5), None]}

    def behaviour(run, progress):
        outcome = outcomes[run.payload["n"]].pop(0)
        if outcome:
            raise outcome
        if run.payload["n"] == 1:
            record_usage(run, Usage(prompt_tokens=120, completion_tokens=30))

    noop_policy(behaviour)
    for n in (1, 2, 3):
        submit("noop", alice, alice, {"n": n})
    drain()
    release_scheduled()
    drain()
    queued = submit("noop", alice, alice, {"n": 4})
    metrics = scrape(admin_client)
    assert metrics[("studyapp_queue_depth", (("queue", "cpu_low"),))] == 1
    assert metrics[("studyapp_queue_depth", (("queue", "ai_high"),))] == 0
    assert metrics[("studyapp_job_runs", (("kind", "noop"), ("status", "succeeded")))] == 3
    assert metrics[("studyapp_job_runs", (("kind", "noop"), ("status", "queued")))] == 1
    assert metrics[("studyapp_job_runs_finished_total", (("kind", "noop"), ("status", "succeeded")))] == 3
    assert metrics[("studyapp_job_run_duration_seconds_count", (("kind", "noop"),))] == 3
    assert metrics[("studyapp_job_run_duration_seconds_bucket", (("kind", "noop"), ("le", "+Inf")))] == 3
    assert metrics[("studyapp_job_run_duration_seconds_sum", (("kind", "noop"),))] >= 0
    assert metrics[("studyapp_job_attempts_total", (("kind", "noop"),))] == 5  # 1 + 2 + 2 (the wait's was refunded)
    assert metrics[("studyapp_rate_limit_waits_total", (("kind", "noop"),))] == 1
    assert metrics[("studyapp_provider_tokens_total", (("kind", "noop"), ("type", "prompt")))] == 120
    assert metrics[("studyapp_provider_tokens_total", (("kind", "noop"), ("type", "completion")))] == 30
    assert metrics[("studyapp_dead_letters", ())] == 0
    assert metrics[("studyapp_processing_paused", ())] == 0
    # django-rq's own collector is served alongside.
    assert metrics[("rq_jobs", (("queue", "cpu_low"), ("status", "queued")))] == 1
    assert "# TYPE rq_workers gauge" in admin_client.get("/metrics").content.decode()
    assert JobRun.objects.get(pk=queued.pk).status == "queued"


def test_the_duration_histogram_is_cumulative(admin_client, alice, noop_policy):
    """Buckets count the runs at or below their bound, as Prometheus expects."""
    from jobs import metrics as jobs_metrics

    jobs_metrics.record_finished("noop", "succeeded", 0.2)
    jobs_metrics.record_finished("noop", "succeeded", 7.0)
    jobs_metrics.record_finished("noop", "failed", 4000.0)
    metrics = scrape(admin_client)
    bucket = lambda le: metrics[("studyapp_job_run_duration_seconds_bucket", (("kind", "noop"), ("le", le)))]
    assert (bucket("0.5"), bucket("5.0"), bucket("10.0"), bucket("3600.0"), bucket("+Inf")) == (1, 1, 2, 2, 3)
    assert metrics[("studyapp_job_run_duration_seconds_sum", (("kind", "noop"),))] == pytest.approx(4007.2)


class _Capture(logging.Handler):
    def __init__(self, formatter: logging.Formatter):
        super().__init__()
        self.addFilter(JobContextFilter())
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def capture(formatter: logging.Formatter) -> _Capture:
    handler = _Capture(formatter)
    logging.getLogger().addHandler(handler)
    return handler


def test_every_log_line_of_a_job_names_its_run_kind_and_attempt(alice, noop_policy):
    """Lines from the task and from the runner, attempt by attempt; lines outside a job do not."""
    from django.conf import settings

    task_log = logging.getLogger("studyapp.test_task")

    def flaky(run, progress):
        task_log.warning("working on it")
        if run.attempts == 1:
            raise TransientError("blip")

    noop_policy(flaky)
    handler = capture(logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"]))
    try:
        run = submit("noop", alice, alice)
        drain()
        release_scheduled()
        drain()
        logging.getLogger("studyapp.test_task").warning("outside any job")
    finally:
        logging.getLogger().removeHandler(handler)
    job_lines = [line for line in handler.lines if "working on it" in line or "attempt 1/3 failed" in line]
    assert len(job_lines) == 3
    assert f" [run={run.id} kind=noop attempt=1] " in job_lines[0]
    assert f" [run={run.id} kind=noop attempt=1] " in job_lines[1] and "failed: blip" in job_lines[1]
    assert f" [run={run.id} kind=noop attempt=2] working on it" in job_lines[2]
    outside = next(line for line in handler.lines if "outside any job" in line)
    assert "[run=" not in outside
    # RQ's own line after the job, written by the worker, names the run and its attempt too.
    completed = [line for line in handler.lines if "Successfully completed" in line]
    assert completed and f"[run={run.id} kind=noop attempt=2]" in completed[-1]


def test_the_json_log_format_carries_the_fields(alice, noop_policy):
    """LOG_FORMAT=json: one object per line with run_id, kind and attempt."""
    from django.conf import settings
    from pythonjsonlogger.json import JsonFormatter

    config = settings.LOGGING["formatters"]["json"]
    noop_policy(lambda run, progress: logging.getLogger("studyapp.test_task").info("inside"))
    handler = capture(JsonFormatter(config["fmt"], rename_fields=config["rename_fields"]))
    logging.getLogger("studyapp.test_task").setLevel(logging.INFO)
    try:
        run = submit("noop", alice, alice)
        drain()
    finally:
        logging.getLogger().removeHandler(handler)
    record = next(json.loads(line) for line in handler.lines if '"inside"' in line)
    assert (record["run_id"], record["kind"], record["attempt"]) == (str(run.id), "noop", 1)
    assert record["level"] == "INFO" and record["logger"] == "studyapp.test_task" and record["message"] == "inside"


def test_the_log_format_setting_selects_json(monkeypatch):
    """The setting is checked: only plain or json."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import django, logging; django.setup(); "
            "logging.getLogger('x').warning('hello')")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "studyapp.settings", "LOG_FORMAT": "json"}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env)
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello" and line["run_id"] == "-"
    env["LOG_FORMAT"] = "xml"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env)
    assert "LOG_FORMAT must be one of plain, json" in result.stderr
