"""Fixtures for the API tests: keys for alice and bob, ninja's TestClient, a processed document."""

from __future__ import annotations

import pytest
from ninja.testing import TestClient

from jobs.pipelines import document_upload
from studyapp.api.api import api as ninja_api
from studyapp.apikeys.services import api_key_create
from studyapp.documents.models import Document
from tests.conftest import pdf_path
from tests.jobs.helpers import drain


@pytest.fixture
def client_api() -> TestClient:
    return TestClient(ninja_api)


@pytest.fixture
def alice_key(alice) -> str:
    return api_key_create(owner=alice, name="alice's script")[1]


@pytest.fixture
def bob_key(bob) -> str:
    return api_key_create(owner=bob, name="bob's script")[1]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def upload(owner, name: str = "pdflatex-4-pages.pdf") -> Document:
    with pdf_path(name).open("rb") as fh:
        document, _ = document_upload(owner=owner, upload=fh, filename=name)
    return document


@pytest.fixture
def processed(alice, settings) -> Document:
    """alice's pdflatex-4-pages.pdf, extracted and with its concept graph (the offline local provider)."""
    settings.AI_PROVIDER = "local"
    document = upload(alice, "pdflatex-4-pages.pdf")
    drain()
    document.refresh_from_db()
    assert document.status == "ready", document.error
    return document
