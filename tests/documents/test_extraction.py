"""PDF extraction: real sample PDFs (tests/fixtures/pdfs, see LICENSE-NOTE.md) plus generated ones.

No Django or Redis needed. OCR tests run only where tesseract with English is installed.
"""

from __future__ import annotations

import io
import pickle
import random
import unicodedata
from pathlib import Path

import pypdf
import pytest

from studyapp.core.errors import Cancelled, PermanentError, TransientError
from studyapp.documents import extraction
from studyapp.documents.errors import (
    BrokenPdf,
    ExtractionTooSlow,
    NoReadableText,
    NotAPdf,
    PasswordRequired,
    TooManyPages,
    UnsupportedEncryption,
    WrongPassword,
)
from studyapp.documents.extraction import (
    ExtractedPage,
    ExtractionOptions,
    clean_text,
    extract_pages,
    is_pdf_bytes,
    looks_like_glyph_codes,
    open_pdf,
    page_count,
    page_labels,
)
from tests.fixtures import make_pdfs

PDFS = Path(__file__).resolve().parents[1] / "fixtures" / "pdfs"
NO_OCR = ExtractionOptions(ocr=False)
needs_tesseract = pytest.mark.skipif(
    extraction.ocr_language("eng") is None, reason="tesseract with English traineddata is not installed"
)


def pdf(name: str) -> bytes:
    return (PDFS / name).read_bytes()


def collect(pages) -> tuple[list[ExtractedPage], Exception | None]:
    """Drain an extract_pages generator the way the job layer does: keep pages, then see the error."""
    got: list[ExtractedPage] = []
    try:
        for page in pages:
            got.append(page)
    except Exception as exc:  # the tests assert on the type
        return got, exc
    return got, None


class Recorder:
    """A progress callback that remembers (stage, done, total)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None, int | None]] = []

    def __call__(self, stage: str, *, done=None, total=None, message: str = "") -> None:
        self.calls.append((stage, done, total))


@pytest.fixture(scope="module")
def geotopo() -> list[ExtractedPage]:
    """The 117-page lecture notes, extracted once for the tests that need them."""
    return list(extract_pages(pdf("GeoTopo-komprimiert.pdf"), options=NO_OCR))


# --- sniffing and opening ------------------------------------------------------------------


def test_it_sniffs_pdfs_by_bytes_not_by_name():
    """%PDF- anywhere in the first KiB counts; later or missing does not."""
    assert is_pdf_bytes(b"%PDF-1.7\n...")
    assert is_pdf_bytes(b"\x00" * 500 + b"%PDF-1.4")
    assert not is_pdf_bytes(b"\x00" * 1100 + b"%PDF-1.4")
    assert not is_pdf_bytes(make_pdfs.png_bytes())
    assert not is_pdf_bytes(b"")


@pytest.mark.parametrize(
    "data",
    [random.Random(7).randbytes(4096), make_pdfs.png_bytes(), b"", b"Hello, I am a text file."],
    ids=["random-bytes", "png-renamed-pdf", "empty", "text"],
)
def test_it_rejects_bytes_that_are_not_a_pdf(data):
    """Random bytes, a PNG renamed .pdf and empty files raise NotAPdf."""
    with pytest.raises(NotAPdf, match=r"^This file is not a PDF\.$"):
        open_pdf(data)
    assert isinstance(collect(extract_pages(data))[1], NotAPdf)


def test_it_reports_the_broken_sample_as_broken():
    """unreadablemetadata.pdf, whose page tree breaks only when walked, raises BrokenPdf."""
    with pytest.raises(BrokenPdf) as info:
        open_pdf(pdf("unreadablemetadata.pdf"))
    assert str(info.value) == "This file is damaged and cannot be read as a PDF (its list of pages cannot be read)."


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9])
def test_it_reports_a_truncated_pdf_as_broken(keep):
    """An upload cut off part-way raises BrokenPdf with a short reason, not a traceback."""
    pages, error = collect(extract_pages(make_pdfs.truncated(pdf("pdflatex-4-pages.pdf"), keep)))
    assert pages == [] and isinstance(error, BrokenPdf)
    assert str(error).startswith("This file is damaged and cannot be read as a PDF (")
    assert "Traceback" not in str(error) and "\n" not in str(error)


def test_it_reports_garbage_after_a_pdf_header_as_broken():
    """A file that only starts like a PDF is BrokenPdf, not NotAPdf."""
    with pytest.raises(BrokenPdf):
        open_pdf(b"%PDF-1.4\n" + random.Random(3).randbytes(2000))


def test_it_accepts_a_binary_file_object():
    """open_pdf and extract_pages take an open binary file as well as bytes."""
    with open(PDFS / "crazyones-pdfa.pdf", "rb") as handle:
        assert page_count(open_pdf(handle)) == 1
    with open(PDFS / "crazyones-pdfa.pdf", "rb") as handle:
        assert [p.source for p in extract_pages(handle)] == ["text"]


# --- passwords -----------------------------------------------------------------------------


def test_it_requires_a_password_for_the_encrypted_sample():
    """Without a password the encrypted sample raises PasswordRequired."""
    with pytest.raises(PasswordRequired, match=r"^This PDF is password-protected: password required\.$"):
        open_pdf(pdf("libreoffice-writer-password.pdf"))


def test_it_rejects_a_wrong_password_without_echoing_it():
    """A wrong password raises WrongPassword and the message never contains it."""
    with pytest.raises(WrongPassword) as info:
        open_pdf(pdf("libreoffice-writer-password.pdf"), password="hunter2")
    assert str(info.value) == "The password for this PDF is wrong."
    assert "hunter2" not in repr(info.value.args)


@pytest.mark.parametrize("password", ["openpassword", "permissionpassword"])
def test_it_extracts_the_encrypted_sample_with_its_password(password):
    """The user password (and the owner password) open the file and its text comes out."""
    pages = list(extract_pages(pdf("libreoffice-writer-password.pdf"), password=password))
    assert [p.source for p in pages] == ["text"]
    assert pages[0].text.startswith("Lorem ipsum dolor sit amet")


def test_it_does_not_keep_the_password_on_the_reader():
    """open_pdf leaves only the derived key behind, not the password itself."""
    reader = open_pdf(pdf("libreoffice-writer-password.pdf"), password="openpassword")
    kept = list(vars(reader).values()) + list(vars(reader._encryption).values())
    assert all(value not in ("openpassword", b"openpassword") for value in kept if isinstance(value, (str, bytes)))


def test_it_explains_encryption_it_cannot_decrypt(monkeypatch):
    """pypdf's DependencyError (AES without 'cryptography') becomes UnsupportedEncryption."""

    def needs_cryptography(self, password):
        raise pypdf.errors.DependencyError("cryptography is required for AES algorithm")

    monkeypatch.setattr(pypdf.PdfReader, "decrypt", needs_cryptography)
    with pytest.raises(UnsupportedEncryption):
        open_pdf(pdf("libreoffice-writer-password.pdf"), password="openpassword")


# --- text PDFs -----------------------------------------------------------------------------


def test_it_extracts_the_lecture_notes_with_printed_labels(geotopo):
    """GeoTopo: 117 text pages, labels i, ii, iii then 1..114."""
    assert len(geotopo) == 117
    assert [p.index for p in geotopo] == list(range(117))
    assert [p.label for p in geotopo[:5]] == ["i", "ii", "iii", "1", "2"]
    assert geotopo[-1].label == "114"
    assert {p.source for p in geotopo} == {"text"}
    assert "Geometrie und Topologie" in geotopo[0].text


def test_it_leaves_no_nul_or_control_characters_in_real_text(geotopo):
    """GeoTopo's maths fonts yield NUL and other control codes; none survive cleaning."""
    for page in geotopo:
        assert "\x00" not in page.text
        assert not [ch for ch in page.text if unicodedata.category(ch) == "Cc" and ch not in "\n\t"]


def test_it_normalises_ligatures_in_real_text(geotopo):
    """The ﬂ/ﬁ/ﬀ ligatures pypdf returns for GeoTopo become plain letters."""
    assert "Auflage" in geotopo[0].text
    assert not any(lig in page.text for page in geotopo for lig in "ﬀﬁﬂﬃﬄ")


@pytest.mark.parametrize(
    "name, pages, expected",
    [
        ("002-trivial-libre-office-writer.pdf", 1, "Lorem ipsum dolor sit amet"),
        ("crazyones-pdfa.pdf", 1, "The misfits. The rebels."),
        ("google-doc-document.pdf", 1, "Beautiful is better than ugly."),
        ("multicolumn.pdf", 3, "Two-Column Document with Lorem Ipsum"),
        ("pdflatex-4-pages.pdf", 4, "Hello, here is some text without a meaning."),
    ],
)
def test_it_extracts_every_small_text_sample(name, pages, expected):
    """Each text sample gives one text page per PDF page, numbered labels, and its known words."""
    got = list(extract_pages(pdf(name)))
    assert [p.source for p in got] == ["text"] * pages
    assert [p.label for p in got] == [str(i + 1) for i in range(pages)]
    assert expected in got[0].text


def test_it_keeps_arabic_text():
    """habibi.pdf keeps its Arabic words (with vowel marks) beside the Latin one."""
    (page,) = extract_pages(pdf("habibi.pdf"))
    assert page.source == "text"
    assert page.text.count("حَبيبي") == 2 and "habibi" in page.text


# --- image pages and OCR -------------------------------------------------------------------


@needs_tesseract
@pytest.mark.parametrize("name", ["grayscale-image.pdf", "imagemagick-CCITTFaxDecode.pdf"])
def test_it_ocrs_image_only_samples_and_finds_no_words(name):
    """These scans are pictures (a cartoon, a 16x16 smiley): OCR runs, reads nothing, document fails."""
    pages, error = collect(extract_pages(pdf(name)))
    assert [(p.source, p.note, p.text) for p in pages] == [("empty", "no text layer; OCR found no text", "")]
    assert isinstance(error, NoReadableText)
    assert str(error) == (
        "No readable text was found in this PDF: the pages have no text layer, "
        "and OCR found no text in the page images either."
    )


@needs_tesseract
def test_it_keeps_a_mostly_image_document_that_has_some_text():
    """imagemagick-images.pdf: four pages carry a 'Background' text layer, two are bare images."""
    pages, error = collect(extract_pages(pdf("imagemagick-images.pdf")))
    assert error is None
    assert [p.source for p in pages] == ["text", "text", "text", "empty", "empty", "text"]
    assert {p.text for p in pages if p.source == "text"} == {"Background"}


@needs_tesseract
def test_it_ocrs_a_scanned_page_with_words():
    """A page that is only a bitmap of text comes back as OCR text."""
    data = make_pdfs.image_only_pdf(["The quick brown fox", "jumps over the lazy dog."])
    (page,) = extract_pages(data)
    assert (page.source, page.note) == ("ocr", "no text layer; OCR used")
    assert "quick brown fox" in page.text and "lazy dog" in page.text


def test_it_marks_image_pages_empty_when_ocr_is_not_available(monkeypatch):
    """Without tesseract the page is empty with a note, and the document says OCR is missing."""
    monkeypatch.setattr(extraction, "tesseract_languages", lambda: frozenset())
    pages, error = collect(extract_pages(pdf("grayscale-image.pdf")))
    assert [(p.source, p.note) for p in pages] == [("empty", "no text layer; OCR not available")]
    assert isinstance(error, NoReadableText) and "OCR is not available" in str(error)


def test_it_skips_ocr_when_turned_off():
    """options.ocr=False never OCRs and says so in the note."""
    pages, error = collect(extract_pages(make_pdfs.image_only_pdf(["Hidden words"]), options=NO_OCR))
    assert [(p.source, p.note) for p in pages] == [("empty", "no text layer; OCR turned off")]
    assert isinstance(error, NoReadableText) and "OCR is turned off" in str(error)


def test_it_uses_only_installed_ocr_languages(monkeypatch):
    """Missing traineddata is dropped from the language list; eng is the fallback; none means no OCR."""
    monkeypatch.setattr(extraction, "tesseract_languages", lambda: frozenset({"eng", "deu"}))
    assert extraction.ocr_language("eng+deu+fra") == "eng+deu"
    assert extraction.ocr_language("fra") == "eng"
    monkeypatch.setattr(extraction, "tesseract_languages", lambda: frozenset({"deu"}))
    assert extraction.ocr_language("fra") is None


# --- glyph codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/g18/g152/g3/g4",
        "/g71/g108 /g121/g112\n/g104",
        "(cid:12)(cid:40) (cid:3)(cid:77)",
        "\ue000\ue001\ue002 \ue003",
        "\ufffd\ufffd\ufffd ok",
        "/uni0041/uni0042 /uni0043",
    ],
)
def test_it_recognises_glyph_codes(text):
    """Glyph names, CID placeholders, private-use and replacement characters are not text."""
    assert looks_like_glyph_codes(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "Plain words on a page.",
        "Sei X=\x18 die Menge, \x19 : X !X; x7! [x]\x18 und \x19\x001(U) 2 TX heißt Quotiententopologie.",
        "The font /g1 is mentioned once in an otherwise normal sentence about fonts.",
        "حَبيبي habibi",
    ],
)
def test_it_does_not_mistake_real_text_for_glyph_codes(text):
    """Empty text, real prose, maths with a few control codes and Arabic are not glyph codes."""
    assert not looks_like_glyph_codes(text)


@needs_tesseract
def test_it_ocrs_a_page_whose_text_layer_is_glyph_codes():
    """A page that shows words but extracts '/g71/g108...' is detected and read by OCR instead."""
    data = make_pdfs.glyph_code_pdf("Glyph codes hide this text")
    assert looks_like_glyph_codes(open_pdf(data).pages[0].extract_text())
    (page,) = extract_pages(data)
    assert (page.source, page.note) == ("ocr", "text layer is glyph codes, not text; OCR used")
    assert page.text == "Glyph codes hide this text"


def test_it_explains_glyph_codes_when_it_cannot_ocr():
    """Without OCR a glyph-code page is empty and the document error names glyph codes."""
    pages, error = collect(extract_pages(make_pdfs.literal_glyph_code_pdf("/g18/g152/g3/g4"), options=NO_OCR))
    assert [(p.source, p.text, p.note) for p in pages] == [
        ("empty", "", "text layer is glyph codes, not text; OCR turned off")
    ]
    assert isinstance(error, NoReadableText)
    assert str(error) == (
        "No readable text was found in this PDF: its text layer is glyph codes, not real text, and OCR is turned off."
    )


# --- broken pages and labels ---------------------------------------------------------------


def _break_page_two(monkeypatch):
    real = pypdf.PageObject.extract_text

    def extract_text(self, *args, **kwargs):
        text = real(self, *args, **kwargs)
        if "page 2." in text:
            raise pypdf.errors.PdfReadError("Unexpected end of stream")
        return text

    monkeypatch.setattr(pypdf.PageObject, "extract_text", extract_text)


@needs_tesseract
def test_it_ocrs_a_page_that_pypdf_cannot_read(monkeypatch):
    """A page raising inside pypdf is not fatal: OCR reads it and the other pages are unaffected."""
    _break_page_two(monkeypatch)
    pages = list(extract_pages(make_pdfs.numbered_pdf(3)))
    assert [p.source for p in pages] == ["text", "ocr", "text"]
    assert pages[1].note == "text layer could not be read; OCR used"
    assert pages[1].text == "This is page 2."


def test_it_marks_an_unreadable_page_empty_without_ocr(monkeypatch):
    """Without OCR the unreadable page is empty with a note; the document still succeeds."""
    _break_page_two(monkeypatch)
    pages, error = collect(extract_pages(make_pdfs.numbered_pdf(3), options=NO_OCR))
    assert error is None
    assert [(p.source, p.note) for p in pages][1] == ("empty", "text layer could not be read; OCR turned off")


def test_it_reads_page_labels_from_the_pdf():
    """Roman-then-decimal /PageLabels come out as printed."""
    labels = b"/PageLabels << /Nums [0 << /S /r >> 2 << /S /D >>] >>"
    data = make_pdfs.text_pdf([["a"], ["b"], ["c"]], catalog_extra=labels)
    assert page_labels(open_pdf(data)) == ["i", "ii", "1"]


def test_it_falls_back_to_page_numbers_when_labels_are_broken():
    """If reading labels raises, or a label is blank, the label is the 1-based page number."""

    class BrokenLabels:
        pages = [object(), object()]

        @property
        def page_labels(self):
            raise KeyError("/Nums")

    class BlankLabel:
        pages = [object(), object()]
        page_labels = ["A-1", " \x00"]

    assert page_labels(BrokenLabels()) == ["1", "2"]
    assert page_labels(BlankLabel()) == ["A-1", "2"]


# --- limits, time budget, resume, progress -------------------------------------------------


def test_it_refuses_too_many_pages_before_extracting_anything():
    """page_cap is enforced up front: no page and no progress before TooManyPages."""
    progress = Recorder()
    options = ExtractionOptions(page_cap=4)
    pages, error = collect(extract_pages(make_pdfs.numbered_pdf(5), progress=progress, options=options))
    assert pages == [] and progress.calls == []
    assert isinstance(error, TooManyPages) and str(error) == "This PDF has 5 pages; the limit is 4."


class FakeClock:
    """Ten seconds pass for every page extracted (driven by the progress callback)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.progress = Recorder()

    def __call__(self) -> float:
        return self.now

    def tick(self, stage: str, *, done=None, total=None, message: str = "") -> None:
        self.progress(stage, done=done, total=total, message=message)
        if stage.startswith("extracting page"):
            self.now += 10


def test_it_stops_when_the_time_budget_is_spent_and_resumes_with_skip():
    """A spent budget raises ExtractionTooSlow after some pages; skip= the done ones yields only the rest."""
    data, options = make_pdfs.numbered_pdf(6), ExtractionOptions(time_budget_s=25)
    first = FakeClock()
    pages, error = collect(extract_pages(data, options=options, clock=first, progress=first.tick))
    assert [p.index for p in pages] == [0, 1, 2]
    assert isinstance(error, ExtractionTooSlow) and (error.done, error.total) == (3, 6)

    second = FakeClock()
    done = {p.index for p in pages}
    rest = list(extract_pages(data, skip=done, options=options, clock=second, progress=second.tick))
    assert [p.index for p in rest] == [3, 4, 5]
    assert [p.text for p in rest] == ["This is page 4.", "This is page 5.", "This is page 6."]
    assert second.progress.calls[:3] == [("reading", 0, 6), ("resuming", 3, 6), ("extracting page 4/6", 4, 6)]
    assert second.progress.calls[-1] == ("extracting page 6/6", 6, 6)


def test_it_extracts_at_least_one_page_per_attempt():
    """Even with no budget left, each attempt makes progress, so retries cannot loop forever."""
    pages, error = collect(extract_pages(make_pdfs.numbered_pdf(3), options=ExtractionOptions(time_budget_s=0)))
    assert [p.index for p in pages] == [0] and isinstance(error, ExtractionTooSlow)


def test_it_only_blames_the_document_for_no_text_when_it_saw_every_page():
    """Resuming over empty pages raises NoReadableText only if the caller says skipped pages were empty too."""
    data = make_pdfs.blank_pdf(3)
    assert [p.source for p in extract_pages(data, skip={0}, options=NO_OCR)] == ["empty", "empty"]
    pages, error = collect(extract_pages(data, skip={0}, options=NO_OCR, skipped_had_text=False))
    assert len(pages) == 2 and isinstance(error, NoReadableText)


def test_it_reports_progress_stages_in_order():
    """reading, then one 'extracting page i/n' per page with done counting up."""
    progress = Recorder()
    list(extract_pages(make_pdfs.numbered_pdf(2), progress=progress))
    assert progress.calls == [("reading", 0, 2), ("extracting page 1/2", 1, 2), ("extracting page 2/2", 2, 2)]


@needs_tesseract
def test_it_announces_ocr_before_running_it():
    """An OCR'd page reports 'ocr page i/n' (not yet done) before its 'extracting page i/n'."""
    progress = Recorder()
    list(extract_pages(make_pdfs.image_only_pdf(["Scanned words"]), progress=progress))
    assert progress.calls == [("reading", 0, 1), ("ocr page 1/1", 0, 1), ("extracting page 1/1", 1, 1)]


def test_it_lets_a_cancel_from_progress_stop_extraction():
    """Cancelled raised by the progress callback propagates and ends the generator."""

    def cancel_after_first(stage: str, *, done=None, total=None, message: str = "") -> None:
        if done == 1:
            raise Cancelled()

    pages, error = collect(extract_pages(make_pdfs.numbered_pdf(3), progress=cancel_after_first))
    assert pages == [] and isinstance(error, Cancelled)


ALL_ERRORS = [
    PasswordRequired(),
    WrongPassword(),
    UnsupportedEncryption(),
    BrokenPdf("x"),
    NotAPdf(),
    TooManyPages(3, 2),
    NoReadableText.because("x"),
    ExtractionTooSlow(1, 2),
]


def test_it_classifies_every_error_as_permanent_or_transient():
    """Bad input is permanent; only running out of time is worth a retry."""
    assert [isinstance(error, TransientError) for error in ALL_ERRORS] == [False] * 7 + [True]
    assert all(isinstance(error, PermanentError) for error in ALL_ERRORS[:7])


def test_it_lets_callers_pass_their_own_message():
    """Errors with a fixed default message also take an explicit one (the upload service does)."""
    assert str(NotAPdf("This file is not a PDF.")) == "This file is not a PDF."
    assert str(NoReadableText("Nothing to read here.")) == "Nothing to read here."


def test_it_pickles_errors_unchanged():
    """Errors survive pickling (worker processes) with the same type, message and fields."""
    for error in ALL_ERRORS:
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), str(copy), vars(copy)) == (type(error), str(error), vars(error))


# --- clean_text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("a\x00b", "ab"),
        ("bell\x07 esc\x1b del\x7f", "bell esc del"),
        ("keep\ttab", "keep\ttab"),
        ("ﬁnd the ﬂow, eﬀort, oﬃce", "find the flow, effort, office"),
        ("windows\r\nmac\rend", "windows\nmac\nend"),
        ("  many    spaces\u00a0and\u2003em  ", "many spaces and em"),
        ("trailing   \nspaces \t\n", "trailing\nspaces"),
        ("a\n\n\n\n\n\nb", "a\n\n\nb"),
        ("a\n\n\nb", "a\n\n\nb"),
        ("\n\n  \n", ""),
        ("soft\u00adhyphen and zero\u200bwidth", "softhyphen and zerowidth"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("Ｆｕｌｌｗｉｄｔｈ x²", "Fullwidth x2"),
    ],
    ids=[
        "nul",
        "control-chars",
        "tab-kept",
        "ligatures",
        "newlines",
        "spaces",
        "trailing-spaces",
        "many-blank-lines",
        "two-blank-lines-kept",
        "blank-only",
        "invisible",
        "surrogate",
        "nfkc-compat",
    ],
)
def test_it_cleans_text(raw, clean):
    """clean_text: NUL/control chars gone, NFKC applied, whitespace tidied, blank runs capped at two."""
    assert clean_text(raw) == clean


def test_it_cleans_text_idempotently():
    """Cleaning clean text changes nothing."""
    once = clean_text("ﬁ\x00 x  \r\n\n\n\n\ny\t ")
    assert clean_text(once) == once


def test_it_reads_page_labels_and_counts_from_bytes_io():
    """page_count and page_labels work on a reader opened from an in-memory stream."""
    reader = open_pdf(io.BytesIO(make_pdfs.numbered_pdf(2)))
    assert page_count(reader) == 2 and page_labels(reader) == ["1", "2"]


def test_the_fast_character_filter_drops_exactly_what_the_readable_rule_drops():
    """clean_text's regex equals _keep_char (the specification) over every code point."""
    import sys

    from studyapp.documents.page_text import _DROPPED_CHARS, _keep_char

    disagree = [cp for cp in range(sys.maxunicode + 1) if _keep_char(chr(cp)) == bool(_DROPPED_CHARS.fullmatch(chr(cp)))]
    assert disagree == []


# --- fan-out (issue 6): a page range of a big document ----------------------------------------


def test_a_page_range_yields_only_its_pages_and_counts_progress_within_it():
    """only=range(2, 4) of 5 pages: pages 3 and 4, progress 0..2 of 2 with the document's page numbers."""
    progress = Recorder()
    pages = list(extract_pages(make_pdfs.numbered_pdf(5), only=range(2, 4), progress=progress, options=NO_OCR))
    assert [(p.index, p.label, p.text) for p in pages] == [(2, "3", "This is page 3."), (3, "4", "This is page 4.")]
    assert progress.calls == [("reading", 0, 2), ("extracting page 3/5", 1, 2), ("extracting page 4/5", 2, 2)]


def test_a_page_range_resumes_after_its_stored_pages_and_leaves_the_text_check_to_the_whole_document():
    """skip= within the range is honoured; an all-empty range is not NoReadableText (other ranges may
    have text); a range past the end is clipped."""
    resumed = list(extract_pages(make_pdfs.numbered_pdf(6), only=range(2, 5), skip={2, 0}, options=NO_OCR))
    assert [p.index for p in resumed] == [3, 4]
    empty = list(extract_pages(make_pdfs.blank_pdf(3), only=range(1, 10), options=NO_OCR))
    assert [(p.index, p.source) for p in empty] == [(1, "empty"), (2, "empty")]
