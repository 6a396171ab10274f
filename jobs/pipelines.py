"""What an upload starts: the document and its extraction run, in one transaction.

Interfaces (admin, web, API, `manage.py process`) call these rather than the domain services
directly, because asking for background work is the job layer's business.
"""

from __future__ import annotations

from typing import IO

from django.db import transaction

from jobs.models import JobRun
from jobs.selectors import latest_run
from jobs.submit import submit
from studyapp.documents.models import Document
from studyapp.documents.services import document_create


def document_upload(*, owner, upload: IO[bytes], filename: str, title: str = "", password: str = "") -> tuple[Document, JobRun | None]:
    """Store the PDF and ask for its extraction. The same file twice: the same document and run."""
    with transaction.atomic():
        document, created = document_create(owner=owner, upload=upload, filename=filename, title=title, password=password)
        if created or document.status == Document.Status.QUEUED:
            return document, submit("extract_document", document, owner)
        return document, latest_run(document, kind="extract_document")
