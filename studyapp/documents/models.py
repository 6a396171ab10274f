from __future__ import annotations

from django.conf import settings
from django.db import models


class Document(models.Model):
    """A PDF a student uploaded. Its text lives in DocumentPage rows, one per page."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=255)
    file = models.FileField(upload_to="documents/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    page_count = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    language = models.CharField(max_length=8, blank=True,
                                help_text="ISO 639-1 code of the text's language, detected when the text is in.")
    error = models.TextField(blank=True, help_text="Shown to the student when processing failed.")
    # Sealed (documents/sealing.py), kept only until extraction ends (success or failure), then
    # wiped; never logged or shown.
    pending_password = models.CharField(max_length=1024, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "sha256"], name="document_unique_per_owner")]

    def __str__(self) -> str:
        return self.title

    def __repr__(self) -> str:
        # Never include pending_password.
        return f"<Document {self.pk} {self.title!r} {self.status}>"


class DocumentPage(models.Model):
    """The cleaned text of one page, with the label printed on it (which may differ from its index)."""

    class Source(models.TextChoices):
        TEXT = "text", "Text layer"
        OCR = "ocr", "OCR"
        EMPTY = "empty", "Empty"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="pages")
    index = models.PositiveIntegerField(help_text="0-based position in the file")
    label = models.CharField(max_length=32, help_text="The page number printed on the page")
    text = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["document", "index"]
        constraints = [models.UniqueConstraint(fields=["document", "index"], name="page_unique_per_document")]

    def __str__(self) -> str:
        return f"page {self.label}"
