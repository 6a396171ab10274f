"""Uploads through the pipeline, and every fixture PDF through the extraction job."""

from __future__ import annotations

import io

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.documents.errors import NotAPdf
from studyapp.documents.models import Document, DocumentPage
from studyapp.documents.services import FileTooLarge
from tests.conftest import pdf_path
from tests.fixtures.make_pdfs import png_bytes, text_pdf
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)


def upload(owner, name: str, password: str = "") -> tuple[Document, JobRun]:
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name, password=password)


def processed(owner, name: str, password: str = "") -> tuple[Document, JobRun]:
    document, run = upload(owner, name, password)
    drain()
    document.refresh_from_db()
    run.refresh_from_db()
    return document, run


# (fixture, status, pages, a page source that must appear, error that must appear)
OUTCOMES = [
    ("002-trivial-libre-office-writer.pdf", "ready", 1, "text", ""),
    ("pdflatex-4-pages.pdf", "ready", 4, "text", ""),
    ("crazyones-pdfa.pdf", "ready", 1, "text", ""),
    ("google-doc-document.pdf", "ready", 1, "text", ""),
    ("multicolumn.pdf", "ready", 3, "text", ""),
    ("habibi.pdf", "ready", 1, "text", ""),
    ("imagemagick-images.pdf", "ready", 6, "empty", ""),
    ("grayscale-image.pdf", "failed", 1, "empty", "No readable text"),
    ("imagemagick-CCITTFaxDecode.pdf", "failed", 1, "empty", "No readable text"),
    ("libreoffice-writer-password.pdf", "failed", 0, None, "password required"),
    ("unreadablemetadata.pdf", "failed", 0, None, "damaged"),
]


@pytest.mark.parametrize("name,status,pages,source,error", OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_every_fixture_pdf_reaches_its_terminal_state_with_the_right_message(alice, name, status, pages, source, error):
    """Text PDFs become ready; image-only ones without text and encrypted/broken ones fail clearly."""
    document, run = processed(alice, name)
    assert document.status == status
    assert run.status == ("succeeded" if status == "ready" else "failed")
    assert DocumentPage.objects.filter(document=document).count() == pages
    if source:
        assert DocumentPage.objects.filter(document=document, source=source).exists()
    assert error in document.error
    assert run.error == document.error
    if status == "failed":
        assert run.attempts == 1, "input errors are permanent: never retried"


@pytest.mark.slow
def test_the_117_page_lecture_notes_keep_their_printed_page_labels(alice):
    """GeoTopo: 117 pages, labels i-iii then 1..114, no NUL, ligatures normalised."""
    document, run = processed(alice, "GeoTopo-komprimiert.pdf")
    assert document.status == "ready" and document.page_count == 117
    labels = list(document.pages.order_by("index").values_list("label", flat=True))
    assert labels[:4] == ["i", "ii", "iii", "1"] and labels[-1] == "114"
    texts = list(document.pages.values_list("text", flat=True))
    assert not any("\x00" in text for text in texts)
    assert not any("\ufb01" in text for text in texts), "the fi ligature is normalised by NFKC"
    progress = run.progress
    assert progress["stage"] == "saving" and progress["done"] == progress["total"] == 117


def test_a_password_given_at_upload_opens_the_encrypted_pdf_and_is_then_forgotten(alice):
    """The right password extracts the document; afterwards it is no longer stored."""
    document, run = processed(alice, "libreoffice-writer-password.pdf", password="openpassword")
    assert document.status == "ready" and run.status == "succeeded"
    assert document.pending_password == ""
    assert "openpassword" not in repr(document)


def test_a_wrong_password_fails_with_a_clear_message_and_is_forgotten(alice):
    """A wrong password is a permanent error naming the problem."""
    document, run = processed(alice, "libreoffice-writer-password.pdf", password="nope")
    assert document.status == "failed" and "password" in document.error.lower()
    assert document.pending_password == ""


def test_uploading_again_with_the_password_reprocesses_the_same_document(alice):
    """First without a password (fails), then with it: the same document, now ready."""
    first, _ = processed(alice, "libreoffice-writer-password.pdf")
    again, run = processed(alice, "libreoffice-writer-password.pdf", password="openpassword")
    assert again.pk == first.pk and again.status == "ready"
    assert Document.objects.count() == 1
    assert JobRun.objects.filter(kind="extract_document").count() == 2
    assert run.status == "succeeded"


def test_the_same_file_twice_gives_one_document_and_one_run(alice):
    """A duplicate upload returns the existing document and its run."""
    first, run1 = upload(alice, "pdflatex-4-pages.pdf")
    second, run2 = upload(alice, "pdflatex-4-pages.pdf")
    assert (first.pk, run1.pk) == (second.pk, run2.pk)
    drain()
    third, run3 = upload(alice, "pdflatex-4-pages.pdf")
    assert (third.pk, run3.pk) == (first.pk, run1.pk)
    assert Document.objects.count() == 1
    assert JobRun.objects.filter(kind="extract_document").count() == 1
    assert JobRun.objects.filter(kind="generate_graph").count() == 1


def test_the_same_file_by_two_owners_gives_two_documents(alice, bob):
    """Deduplication is per owner."""
    mine, _ = upload(alice, "pdflatex-4-pages.pdf")
    theirs, _ = upload(bob, "pdflatex-4-pages.pdf")
    assert mine.pk != theirs.pk


def test_a_file_that_is_not_a_pdf_is_rejected_by_its_bytes_whatever_its_name(alice):
    """A PNG called notes.pdf is refused before anything is stored."""
    with pytest.raises(NotAPdf, match="not a PDF"):
        document_upload(owner=alice, upload=io.BytesIO(png_bytes()), filename="notes.pdf")
    assert Document.objects.count() == 0 and JobRun.objects.count() == 0


def test_a_pdf_with_a_misleading_name_is_accepted(alice):
    """The bytes decide: a PDF called notes.txt is a PDF."""
    document, run = document_upload(owner=alice, upload=io.BytesIO(text_pdf([["Hello world"]])), filename="notes.txt")
    drain()
    document.refresh_from_db()
    assert document.status == "ready"


def test_an_upload_over_the_size_cap_is_rejected(alice, settings):
    """The size cap is a setting; the message names both sizes."""
    settings.UPLOAD_MAX_BYTES = 2048
    with pytest.raises(FileTooLarge, match="limit is"):
        document_upload(owner=alice, upload=io.BytesIO(pdf_path("pdflatex-4-pages.pdf").read_bytes()),
                        filename="big.pdf")
    assert Document.objects.count() == 0


def test_the_file_is_stored_through_storage_and_read_back_by_the_job(alice, settings, tmp_path):
    """The worker reads the PDF through Django's storage API, not a path on the web server."""
    document, _ = upload(alice, "pdflatex-4-pages.pdf")
    assert document.file.storage.exists(document.file.name)
    assert document.file.name.startswith("documents/")
    drain()
    document.refresh_from_db()
    assert document.status == "ready" and document.sha256 and document.size > 0
