"""Reads for documents, always scoped to their owner: someone else's document is not found."""

from __future__ import annotations

from django.db.models import QuerySet

from studyapp.core.errors import NotFound
from studyapp.documents.models import Document, DocumentPage


def document_for_owner(*, owner, document_id: int) -> Document:
    """Raises NotFound for an unknown id and for another student's document alike."""
    document = Document.objects.filter(owner=owner, pk=document_id).first()
    if document is None:
        raise NotFound("No such document.")
    return document


def document_pages_in_order(*, document: Document) -> QuerySet[DocumentPage]:
    return DocumentPage.objects.filter(document=document).order_by("index")
