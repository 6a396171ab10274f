"""The API's setting is read by a strict helper like every other."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from studyapp.env import env_rate


def test_a_write_rate_must_be_in_the_limits_notation(monkeypatch):
    """'60/minute' and '5 per second' are rates; 'fast' stops the program with the variable's name."""
    monkeypatch.setenv("API_WRITE_RATE", "5 per second")
    assert env_rate("API_WRITE_RATE", "60/minute") == "5 per second"
    monkeypatch.delenv("API_WRITE_RATE")
    assert env_rate("API_WRITE_RATE", "60/minute") == "60/minute"
    monkeypatch.setenv("API_WRITE_RATE", "fast")
    with pytest.raises(ImproperlyConfigured, match="API_WRITE_RATE must be a rate"):
        env_rate("API_WRITE_RATE", "60/minute")
