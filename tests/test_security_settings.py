"""Production settings pass Django's deployment checks, and every page carries a Content-Security-Policy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import REPO


def check_deploy(**environ: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "studyapp.settings", "DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(60), "ALLOWED_HOSTS": "studyapp.example.org", **environ}
    return subprocess.run([sys.executable, str(REPO / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_production_settings_over_https_pass_check_deploy():
    result = check_deploy(HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_https_declared_the_check_names_what_is_missing():
    result = check_deploy()
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy(client, alice):
    client.force_login(alice)
    for path in ("/", "/login/", "/admin/login/", "/api/docs"):
        policy = client.get(path)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
