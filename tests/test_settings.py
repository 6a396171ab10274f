"""Settings come from environment variables through strict helpers."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from studyapp.env import env_bool, env_choice, env_int, env_url
from tests.conftest import REPO


def test_a_malformed_boolean_names_the_variable(monkeypatch):
    """'maybe' is not a boolean."""
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG", True)


def test_integers_urls_and_choices_are_checked(monkeypatch):
    """Each helper rejects what it cannot read and accepts what it can."""
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "ten")
    with pytest.raises(ImproperlyConfigured, match="UPLOAD_MAX_BYTES must be an integer"):
        env_int("UPLOAD_MAX_BYTES", 1)
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "12")
    with pytest.raises(ImproperlyConfigured, match="at least 1024"):
        env_int("UPLOAD_MAX_BYTES", 1, minimum=1024)
    monkeypatch.setenv("REDIS_URL", "localhost:6379")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be a URL"):
        env_url("REDIS_URL", "redis://x", schemes=("redis",))
    monkeypatch.setenv("AI_PROVIDER", "gpt")
    with pytest.raises(ImproperlyConfigured, match="AI_PROVIDER must be one of local, openai"):
        env_choice("AI_PROVIDER", "local", choices=("local", "openai"))
    monkeypatch.setenv("DEBUG", "off")
    assert env_bool("DEBUG", True) is False


def test_the_project_refuses_to_start_with_a_bad_value():
    """`manage.py check` fails at start with the variable's name."""
    result = subprocess.run([sys.executable, str(REPO / "manage.py"), "check"], cwd=REPO, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "REDIS_URL": "not a url"})
    assert result.returncode != 0
    assert "REDIS_URL must be a URL" in result.stderr


def test_database_url_selects_postgresql_and_sqlite_is_the_default():
    """With DATABASE_URL=postgres://... the project uses PostgreSQL; without it, SQLite under var/."""
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'])"
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "studyapp.settings"}
    run = lambda env: subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO,
                                     capture_output=True, text=True, env={**base, **env}).stdout.split()
    assert run({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}) == ["django.db.backends.postgresql", "test"]
    engine, name = run({})
    assert engine == "django.db.backends.sqlite3" and name.endswith("var/studyapp.sqlite3")
