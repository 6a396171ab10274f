"""Writes for documents: upload, extraction (with per-page checkpoints), failure.

No imports of jobs/ or rq: the job layer calls these and passes a progress callback.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction

from studyapp.core.errors import PermanentError
from studyapp.core.progress import ProgressCallback, no_progress
from studyapp.documents.errors import NoReadableText, NotAPdf
from studyapp.ai.language import detect_language
from studyapp.documents.extraction import ExtractedPage, ExtractionOptions, extract_pages, is_pdf_bytes
from studyapp.documents.hyphenation import Vocabulary, rejoin_split_words
from studyapp.documents.sandbox import sandboxed
from studyapp.documents.sealing import seal, unseal
from studyapp.documents.models import Document, DocumentPage


class FileTooLarge(PermanentError):
    """The upload is over the size cap."""


def document_create(*, owner, upload: IO[bytes], filename: str, title: str = "", password: str = "") -> tuple[Document, bool]:
    """Store an uploaded PDF for `owner`. Returns (document, created).

    The same bytes uploaded again by the same owner give the existing document. If that one failed
    and a password comes with the new upload, it is queued again with the password.

    Raises:
        NotAPdf: the bytes are not a PDF, whatever the file is called.
        FileTooLarge: over settings.UPLOAD_MAX_BYTES.
    """
    size = _size_of(upload)
    if size > settings.UPLOAD_MAX_BYTES:
        raise FileTooLarge(f"This file is {_mb(size)}; the limit is {_mb(settings.UPLOAD_MAX_BYTES)}.")
    upload.seek(0)
    if not is_pdf_bytes(upload.read(1024)):
        raise NotAPdf("This file is not a PDF.")
    digest = _sha256(upload)
    existing = Document.objects.filter(owner=owner, sha256=digest).first()
    if existing:
        return _reuse(existing, password), False
    document = Document(
        owner=owner, title=(title or Path(filename).stem or "Untitled")[:255], sha256=digest, size=size,
        pending_password=seal(password),
    )
    upload.seek(0)
    document.file.save(_storage_name(filename, digest), File(upload), save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        # The same file arrived twice at once; the other request stored it first.
        document.file.delete(save=False)
        return Document.objects.get(owner=owner, sha256=digest), False
    return document, True


def _reuse(document: Document, password: str) -> Document:
    if password and document.status == Document.Status.FAILED:
        document.pending_password = seal(password)
        document.status = Document.Status.QUEUED
        document.error = ""
        document.save(update_fields=["pending_password", "status", "error", "updated_at"])
    return document


def _size_of(upload: IO[bytes]) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    return int(size)


def _sha256(upload: IO[bytes]) -> str:
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _storage_name(filename: str, digest: str) -> str:
    # The stored name never depends on what the user called the file beyond a safe stem.
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(filename).stem)[:60] or "document"
    return f"{stem}-{digest[:12]}.pdf"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class _SplitInstead(Exception):
    """Internal: the document is over `split_above` pages; stop before extracting any."""


def document_extract(*, document: Document, options: ExtractionOptions, progress: ProgressCallback = no_progress,
                     split_above: int | None = None) -> dict | None:
    """Extract the document's pages into DocumentPage rows; resumes after the pages already stored.

    Each page is committed as it is extracted (a checkpoint), so a retried or recovered run skips
    them and never stores a page twice. Raises the domain errors of studyapp.documents.errors.

    With `split_above`, a document of more pages than that is only opened and checked (errors,
    page cap) and its page_count stored; None is returned and no page is extracted, so that the
    caller can extract it in ranges (document_extract_range, in parallel) and then call
    document_finish.
    """
    Document.objects.filter(pk=document.pk).update(status=Document.Status.PROCESSING, error="")
    data = _read_file(document)
    done = set(document.pages.values_list("index", flat=True))
    counted: list[int] = []

    def progress_and_page_count(stage: str, *, done=None, total=None, message: str = "") -> None:
        # The extractor announces the page count when it has opened the file ("reading"): store
        # it then, rather than opening the PDF a second time just to count.
        if stage == "reading" and total is not None and not counted:
            counted.append(total)
            Document.objects.filter(pk=document.pk).update(page_count=total)
            if split_above is not None and total > split_above:
                raise _SplitInstead()
        progress(stage, done=done, total=total, message=message)

    pages = _extracted_pages(document, data, skip=done, progress=progress_and_page_count, options=options)
    try:
        with PageCheckpoints(document) as checkpoints:
            for page in pages:
                checkpoints.add(page)
    except _SplitInstead:
        return None
    return document_finish(document=document, progress=progress)


def document_extract_range(*, document: Document, first: int, last: int, options: ExtractionOptions,
                           progress: ProgressCallback = no_progress) -> dict:
    """Extract pages first..last (0-based, inclusive) of a document split by document_extract.

    Any worker can run any range, also at the same time as the others: the file is read through
    storage, pages already stored are skipped (a retried range resumes), and the unique (document,
    index) constraint means a page is never stored twice. The document stays processing: the
    whole-document checks are document_finish's, once every range is in.
    """
    data = _read_file(document)
    done = set(document.pages.filter(index__gte=first, index__lte=last).values_list("index", flat=True))
    pages = _extracted_pages(document, data, skip=done, progress=progress, options=options,
                             only=range(first, last + 1))
    stored = 0
    with PageCheckpoints(document) as checkpoints:
        for page in pages:
            checkpoints.add(page)
            stored += 1
    return {"first": first, "last": last, "pages": last - first + 1, "extracted": stored}


def document_finish(*, document: Document, progress: ProgressCallback = no_progress) -> dict:
    """The document's pages are all stored: check it has text, mark it ready, forget its password.

    Raises:
        NoReadableText: not one page has text.
        PermanentError: pages are missing (a range was never extracted); a bug, not bad input.
    """
    summary = document_summary(document)
    total = Document.objects.filter(pk=document.pk).values_list("page_count", flat=True).get()
    if total is not None and summary["pages"] != total:
        raise PermanentError(f"Only {summary['pages']} of the {total} pages were extracted.")
    progress("saving", done=summary["pages"], total=summary["pages"])
    if summary["pages"] and summary["empty_pages"] == summary["pages"]:
        raise NoReadableText("This PDF has no readable text: no page has a text layer or text that OCR could read.")
    texts = _rejoin_split_words(document)
    language = detect_language("\n".join(texts))
    Document.objects.filter(pk=document.pk).update(status=Document.Status.READY, error="", pending_password="",
                                                   language=language)
    document.language = language
    return summary


def document_language(document: Document) -> str:
    """The document's language (detected when its text came in; for a document from before that,
    detected now and stored)."""
    if not document.language:
        document.language = detect_language("\n".join(
            document.pages.order_by("index").values_list("text", flat=True)[:50]))
        Document.objects.filter(pk=document.pk).update(language=document.language)
    return document.language


def _rejoin_split_words(document: Document) -> list[str]:
    """Join the words split at line ends, deciding from the whole document's vocabulary (which is
    why it waits until every page is in). Idempotent: a retried finish changes nothing more."""
    pages = list(document.pages.exclude(text="").only("pk", "text"))
    texts = [page.text for page in pages]
    vocabulary = Vocabulary(texts, detect_language("\n".join(texts[:50])))
    changed = []
    for page in pages:
        joined = rejoin_split_words(page.text, vocabulary)
        if joined != page.text:
            page.text = joined
            changed.append(page)
    DocumentPage.objects.bulk_update(changed, ["text"], batch_size=200)
    return [page.text for page in pages]


def _extracted_pages(document: Document, data: bytes, *, options: ExtractionOptions,
                     **kwargs) -> Iterator[ExtractedPage]:
    """The pages of `data`, parsed in the sandbox the options name, opened with the document's password."""
    return sandboxed(extract_pages, options.sandbox, data=data, password=unseal(document.pending_password),
                     options=options, **kwargs)


def _read_file(document: Document) -> bytes:
    # Through storage, never a local path: workers may run on other machines.
    with document.file.open("rb") as fh:
        return fh.read()


class PageCheckpoints:
    """Stores extracted pages in small batches: every FLUSH_PAGES pages or FLUSH_S seconds.

    A retried or recovered run resumes after the stored pages, so at most one batch is redone;
    the unique (document, index) constraint means a page is never stored twice. Batching keeps
    the database's share of extraction time small (one INSERT per page cost ~3%).
    """

    FLUSH_PAGES = 8
    FLUSH_S = 1.0

    def __init__(self, document: Document, clock: Callable[[], float] = time.monotonic):
        self.document = document
        self.clock = clock
        self.pending: list[DocumentPage] = []
        self.last_flush = clock()

    def __enter__(self) -> "PageCheckpoints":
        return self

    def __exit__(self, *exc_info) -> None:
        self.flush()  # also when extraction stops with an error: the pages done so far count

    def add(self, page: ExtractedPage) -> None:
        self.pending.append(DocumentPage(document=self.document, index=page.index, label=page.label[:32],
                                         text=page.text, source=page.source, note=page.note[:255]))
        if len(self.pending) >= self.FLUSH_PAGES or self.clock() - self.last_flush >= self.FLUSH_S:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            DocumentPage.objects.bulk_create(self.pending, ignore_conflicts=True)
            self.pending = []
        self.last_flush = self.clock()


def document_summary(document: Document) -> dict:
    pages = list(document.pages.values_list("source", "text"))
    return {
        "pages": len(pages),
        "ocr_pages": sum(1 for source, _ in pages if source == DocumentPage.Source.OCR),
        "empty_pages": sum(1 for source, _ in pages if source == DocumentPage.Source.EMPTY),
        "chars": sum(len(text) for _, text in pages),
    }


def document_mark_failed(*, document_id: int, error: str) -> None:
    """The document's processing ended without success: say why, and forget any password."""
    Document.objects.filter(pk=document_id).update(status=Document.Status.FAILED, error=error, pending_password="")


def document_requeue(*, document_id: int) -> None:
    """The document's extraction was put back on the queue (an operator or the student retried it)."""
    Document.objects.filter(pk=document_id).update(status=Document.Status.QUEUED, error="")


def documents_for_owner(*, owner):
    return Document.objects.filter(owner=owner)


def document_delete(*, document: Document) -> None:
    """Delete the document with its pages and graphs, and its stored PDF once that is committed.

    The file goes after the commit so that a rolled-back delete never leaves a row without its file.
    Runs on the document are the job layer's business (jobs.pipelines.document_delete cancels them).
    """
    storage, name = document.file.storage, document.file.name
    document.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name), robust=True)
