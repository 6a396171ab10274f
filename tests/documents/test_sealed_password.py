"""A PDF's password never reaches the database in clear: sealed while extraction waits, wiped after."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from jobs.pipelines import document_upload
from studyapp.documents.models import Document
from studyapp.documents.sealing import seal, unseal
from tests.conftest import pdf_path
from tests.jobs.helpers import drain

PASSWORD = "openpassword"


def test_a_sealed_password_opens_only_with_this_secret_key(settings):
    sealed = seal(PASSWORD)
    assert PASSWORD not in sealed and unseal(sealed) == PASSWORD
    assert seal("") == "" and unseal("") == ""
    settings.SECRET_KEY = "another-secret-key-for-another-site-0123456789"
    assert unseal(sealed) == ""  # unreadable, not an error: extraction then asks for the password


@pytest.mark.django_db(transaction=True)
def test_the_password_is_stored_sealed_and_is_gone_after_extraction(alice):
    with pdf_path("libreoffice-writer-password.pdf").open("rb") as fh:
        document, _ = document_upload(owner=alice, upload=fh, filename="locked.pdf", password=PASSWORD)
    stored = Document.objects.values_list("pending_password", flat=True).get(pk=document.pk)
    assert stored and PASSWORD not in stored

    drain()

    document.refresh_from_db()
    assert document.status == "ready" and document.pending_password == ""
    if connection.vendor == "sqlite":  # the file and its WAL, free pages included
        connection.close()
        name = Path(connection.settings_dict["NAME"])
        for path in (name, Path(f"{name}-wal")):
            if path.exists():
                assert PASSWORD.encode() not in path.read_bytes(), path
