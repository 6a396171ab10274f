"""Deployment: docker/.env.example lists every setting, compose.yaml is valid, S3 storage switch,
the container healthchecks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import REPO

DOCKER = REPO / "docker"


def settings_env_vars() -> set[str]:
    source = (REPO / "studyapp" / "settings.py").read_text()
    names = set(re.findall(r"\benv_\w+\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))
    names |= set(re.findall(r"os\.environ(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))
    return names


def test_the_env_example_lists_every_setting():
    """Every environment variable studyapp/settings.py reads has a line in docker/.env.example."""
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (DOCKER / ".env.example").read_text(), re.M))
    names = settings_env_vars()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "METRICS_TOKEN"} <= names, "the parser finds them"
    assert sorted(names - listed) == []


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _compose_available(),
                    reason="the docker client or its compose plugin is not installed here (`docker compose version` fails)")
def test_the_compose_file_is_valid():
    """`docker compose config` accepts the file with the example settings."""
    result = subprocess.run(["docker", "compose", "-f", str(DOCKER / "compose.yaml"), "--env-file",
                             str(DOCKER / ".env.example"), "config", "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_compose_file_has_every_role_with_healthchecks_and_aof():
    """Read as YAML without docker: the services, healthchecks and Redis persistence are there."""
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "cpu_worker", "ai_worker", "scheduler", "redis", "postgres", "migrate"} <= set(services)
    for name in ("web", "cpu_worker", "ai_worker", "scheduler", "redis", "postgres"):
        assert "healthcheck" in services[name], name
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert "gunicorn" in (DOCKER / "Dockerfile").read_text() and "tesseract-ocr" in (DOCKER / "Dockerfile").read_text()


def _settings_in_subprocess(env: dict[str, str], code: str) -> str:
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "studyapp.settings"}
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO,
                            capture_output=True, text=True, env={**base, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_bucket_name_switches_uploads_to_s3_compatible_storage():
    """AWS_STORAGE_BUCKET_NAME selects django-storages' S3 backend with the endpoint given."""
    code = ("from django.core.files.storage import storages; s = storages[\"default\"]; "
            "print(type(s).__module__, type(s).__name__, s.bucket_name, s.endpoint_url, s.location)")
    env = {"AWS_STORAGE_BUCKET_NAME": "studyapp-media", "AWS_S3_ENDPOINT_URL": "http://minio:9000",
           "AWS_LOCATION": "uploads", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    assert _settings_in_subprocess(env, code) == "storages.backends.s3 S3Storage studyapp-media http://minio:9000 uploads"
    local = _settings_in_subprocess({}, "from django.core.files.storage import storages; s = storages[\"default\"]; "
                                        "print(type(s).__name__)")
    assert local == "FileSystemStorage"


def test_private_webhook_addresses_are_blocked_when_debug_is_off():
    """Production settings (DEBUG=0) refuse loopback and private webhook targets by default."""
    code = "from django.conf import settings; print(settings.WEBHOOK_BLOCK_PRIVATE_ADDRESSES)"
    assert _settings_in_subprocess({"DEBUG": "0", "SECRET_KEY": "x"}, code) == "True"
    assert _settings_in_subprocess({"DEBUG": "1"}, code) == "False"


@pytest.mark.django_db
def test_the_worker_healthcheck_needs_a_live_worker_on_this_host():
    """No worker registered from this host: unhealthy; one that sent a heartbeat: healthy."""
    from jobs.connection import get_queue, get_redis
    from jobs.worker import SimpleWorker

    with pytest.raises(CommandError, match="no RQ worker registered"):
        call_command("healthcheck", "worker")
    worker = SimpleWorker([get_queue("cpu_low")], connection=get_redis())
    worker.register_birth()
    worker.heartbeat()
    try:
        call_command("healthcheck", "worker")
        call_command("healthcheck", "web")
        with pytest.raises(CommandError, match="no rq-scheduler"):
            call_command("healthcheck", "scheduler")
    finally:
        worker.register_death()
