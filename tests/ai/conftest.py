"""Fixtures for the AI tests: a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import pytest

from tests.ai.fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai():
    """A running FakeOpenAI (echo answers unless scripted): `.base_url`, `.script(...)`, `.requests`."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
