"""Turn an uploaded PDF into clean per-page text, with OCR for pages that have no usable text layer.

Pure domain code: no Django, no RQ. `extract_pages` is a generator so the caller can store every
page as a checkpoint the moment it arrives; a retry passes the stored indexes as `skip` and
continues where the last attempt stopped.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import shutil
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pypdf
import pypdfium2 as pdfium
import pytesseract
from PIL import Image
from pypdf.errors import DependencyError, EmptyFileError, LimitReachedError

from studyapp.core.progress import ProgressCallback, no_progress
from studyapp.documents.errors import (
    BrokenPdf,
    ExtractionTooSlow,
    NoReadableText,
    NotAPdf,
    PasswordRequired,
    PdfTooDemanding,
    TooManyPages,
    UnsupportedEncryption,
    WrongPassword,
)
from studyapp.documents.page_text import clean_text, looks_like_glyph_codes
from studyapp.documents.render_cost import check_render_cost
from studyapp.documents.sandbox import SandboxLimits

log = logging.getLogger(__name__)

SNIFF_BYTES = 1024  # PDF readers accept the header anywhere in the first KiB
MAX_OCR_PIXELS = 25_000_000  # keeps posters/odd MediaBoxes from exhausting memory in tesseract
OCR_PAGE_TIMEOUT_S = 300  # one pathological page must not hold a worker forever


@dataclass(frozen=True)
class ExtractionOptions:
    page_cap: int = 2000
    time_budget_s: float = 1800.0
    ocr: bool = True  # OCR pages without a usable text layer
    ocr_languages: str = "eng+deu"  # only installed languages are used; fall back to eng
    ocr_dpi: int = 200
    # Parsing, rendering and OCR run in a child process under these limits (None: in this process).
    sandbox: SandboxLimits | None = None

    @property
    def max_expanded_mb(self) -> int:
        """A page that would decode more than this to be rendered for OCR is refused (render_cost.py)."""
        return (self.sandbox or SandboxLimits()).memory_mb


@dataclass(frozen=True)
class ExtractedPage:
    index: int  # 0-based
    label: str  # printed page label, e.g. "iii" or "1"
    text: str  # cleaned text, "" for empty pages
    source: str  # "text" | "ocr" | "empty"
    note: str = ""  # why OCR was used or why the page is empty


# --- opening -------------------------------------------------------------------------------


def is_pdf_bytes(head: bytes) -> bool:
    """True if the bytes look like a PDF: judged by content, never by file name."""
    return b"%PDF-" in head[:SNIFF_BYTES]


def open_pdf(data: bytes | BinaryIO, *, password: str = "") -> pypdf.PdfReader:
    """Open, decrypt and sanity-check a PDF; every failure is a PermanentError with plain words."""
    reader, _ = _open(_as_bytes(data), password)
    return reader


def _open(raw: bytes, password: str) -> tuple[pypdf.PdfReader, str]:
    """Like open_pdf, also returning the password that worked ("" or the given one) for pdfium."""
    if not is_pdf_bytes(raw[:SNIFF_BYTES]):
        raise NotAPdf()
    reader = _parse(raw)
    used = _unlock(reader, password) if reader.is_encrypted else ""
    page_count(reader)  # some files only break when the page tree is walked
    return reader, used


def _as_bytes(data: bytes | bytearray | memoryview | BinaryIO) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    return data.read()


def _parse(raw: bytes) -> pypdf.PdfReader:
    try:
        return pypdf.PdfReader(io.BytesIO(raw), strict=False)
    except EmptyFileError as exc:
        raise BrokenPdf("the file is empty") from exc
    except Exception as exc:  # pypdf raises many types on corrupt input; all mean the same here
        raise_if_limit(exc)
        log.info("PDF parse failed: %s: %s", type(exc).__name__, exc)
        raise BrokenPdf("its structure cannot be parsed") from exc


def _unlock(reader: pypdf.PdfReader, password: str) -> str:
    """Decrypt with the empty password first (owner-password-only files), then the given one."""
    if _decrypts(reader, ""):
        return ""
    if not password:
        raise PasswordRequired()
    if not _decrypts(reader, password):
        raise WrongPassword()
    return password


def _decrypts(reader: pypdf.PdfReader, password: str) -> bool:
    try:
        return reader.decrypt(password) != pypdf.PasswordType.NOT_DECRYPTED
    except DependencyError as exc:  # AES needs the optional 'cryptography' package
        raise UnsupportedEncryption() from exc
    except Exception as exc:  # deliberately not logging the exception text: it could echo input
        raise BrokenPdf("its encryption data is invalid") from exc


def page_count(reader: pypdf.PdfReader) -> int:
    """Number of pages; a page tree that cannot be walked is a broken file."""
    try:
        return len(reader.pages)
    except Exception as exc:
        raise_if_limit(exc)
        log.info("PDF page tree unreadable: %s: %s", type(exc).__name__, exc)
        raise BrokenPdf("its list of pages cannot be read") from exc


def raise_if_limit(exc: Exception) -> None:
    """Re-raise what means "too big" rather than "broken": out of memory or stack, or pypdf's limits."""
    if isinstance(exc, (MemoryError, RecursionError)):
        raise exc
    if isinstance(exc, LimitReachedError):
        if "depth" in str(exc).lower():
            raise PdfTooDemanding("nests its structure too deeply to be read") from None
        raise PdfTooDemanding("holds more data or objects than the reader allows in one piece") from None


def page_labels(reader: pypdf.PdfReader) -> list[str]:
    """Printed page labels ("iii", "1"); str(i+1) wherever the label data is missing or broken."""
    n = page_count(reader)
    try:
        labels = list(reader.page_labels)
    except Exception as exc:  # a broken /PageLabels tree should not cost us the document
        log.info("PDF page labels unreadable: %s", type(exc).__name__)
        labels = []
    if len(labels) != n:
        labels = [""] * n
    return [_clean_label(label) or str(i + 1) for i, label in enumerate(labels)]


def _clean_label(label: object) -> str:
    return clean_text(label).replace("\n", " ") if isinstance(label, str) else ""


# --- OCR -----------------------------------------------------------------------------------


@functools.cache
def tesseract_languages() -> frozenset[str]:
    """Installed tesseract languages; empty if tesseract is missing. Cached: it spawns a process."""
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        return frozenset()
    try:
        return frozenset(pytesseract.get_languages(config="")) - {"osd"}
    except Exception as exc:  # a broken install is the same as none for us
        log.warning("tesseract present but unusable: %s", type(exc).__name__)
        return frozenset()


def ocr_language(requested: str) -> str | None:
    """The '+'-joined installed subset of `requested`, else 'eng' if installed, else None (no OCR)."""
    installed = tesseract_languages()
    wanted = [lang for lang in requested.split("+") if lang in installed]
    if wanted:
        return "+".join(wanted)
    return "eng" if "eng" in installed else None


def _render(document: pdfium.PdfDocument, index: int, dpi: int) -> Image.Image:
    """Rasterise one page in grayscale at `dpi`, scaled down if the bitmap would be huge."""
    page = document[index]
    try:
        width, height = page.get_size()
        scale = dpi / 72
        pixels = width * height * scale * scale
        if pixels > MAX_OCR_PIXELS:
            scale *= math.sqrt(MAX_OCR_PIXELS / pixels)
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()


def _ocr_page(document: pdfium.PdfDocument | None, index: int, lang: str, dpi: int) -> tuple[str, str]:
    """(text, note): the cleaned OCR text, or "" and why there is none."""
    if document is None:
        return "", "OCR failed: the page cannot be rendered"
    try:
        image = _render(document, index, dpi)
        raw = pytesseract.image_to_string(image, lang=lang, timeout=OCR_PAGE_TIMEOUT_S)
    except MemoryError:
        raise  # the sandbox's limit: the document is refused, not this page left empty
    except RuntimeError as exc:  # pytesseract signals its timeout as a bare RuntimeError
        if "timeout" in str(exc).lower():
            return "", "OCR timed out"
        log.warning("OCR failed on page %d: %s", index, type(exc).__name__)
        return "", "OCR failed"
    except Exception as exc:  # tesseract/pdfium errors are per page, never fatal for the document
        log.warning("OCR failed on page %d: %s", index, type(exc).__name__)
        return "", "OCR failed"
    if looks_like_glyph_codes(raw):  # the page literally prints codes: no more useful than the layer
        return "", "OCR found only glyph codes"
    text = clean_text(raw)
    return (text, "") if text else ("", "OCR found no text")


# --- pages ---------------------------------------------------------------------------------

NO_TEXT_LAYER = "no text layer"
GLYPH_CODES = "text layer is glyph codes, not text"
UNREADABLE = "text layer could not be read"


def _text_layer(reader: pypdf.PdfReader, index: int) -> tuple[str, str]:
    """(clean text, problem) of the page's own text layer; problem is "" when the text is usable."""
    try:
        raw = reader.pages[index].extract_text()
    except Exception as exc:  # one bad page (broken stream, odd font) must not sink the document
        raise_if_limit(exc)
        log.warning("text extraction failed on page %d: %s", index, type(exc).__name__)
        return "", UNREADABLE
    if looks_like_glyph_codes(raw):
        return "", GLYPH_CODES
    text = clean_text(raw)
    return (text, "") if text else ("", NO_TEXT_LAYER)


@dataclass
class _Run:
    """State of one extraction attempt, so the per-page helpers stay small."""

    reader: pypdf.PdfReader
    document: pdfium.PdfDocument | None
    labels: list[str]
    ocr_lang: str | None
    ocr_off_note: str
    options: ExtractionOptions
    progress: ProgressCallback
    problems: Counter

    @property
    def total(self) -> int:
        return len(self.labels)

    def page(self, index: int, done: int, total: int) -> ExtractedPage:
        label = self.labels[index]
        text, problem = _text_layer(self.reader, index)
        if not problem:
            return ExtractedPage(index, label, text, "text")
        if self.ocr_lang is None:
            return self._empty(index, problem, self.ocr_off_note)
        self.progress(f"ocr page {index + 1}/{self.total}", done=done, total=total)
        check_render_cost(self.reader.pages[index], self.options.max_expanded_mb)
        text, ocr_note = _ocr_page(self.document, index, self.ocr_lang, self.options.ocr_dpi)
        if text:
            return ExtractedPage(index, label, text, "ocr", note=f"{problem}; OCR used")
        return self._empty(index, problem, ocr_note)

    def _empty(self, index: int, problem: str, ocr_note: str) -> ExtractedPage:
        self.problems[(problem, ocr_note)] += 1
        return ExtractedPage(index, self.labels[index], "", "empty", note=f"{problem}; {ocr_note}")


def _ocr_setup(options: ExtractionOptions) -> tuple[str | None, str]:
    """The tesseract language to use (None: no OCR) and the note empty pages get if there is none."""
    if not options.ocr:
        return None, "OCR turned off"
    lang = ocr_language(options.ocr_languages)
    return lang, ("" if lang else "OCR not available")


def _open_for_rendering(raw: bytes, password: str) -> pdfium.PdfDocument | None:
    try:
        return pdfium.PdfDocument(raw, password=password or None)
    except Exception as exc:  # pypdf could read it, pdfium cannot: only OCR is lost
        log.warning("pdfium cannot open the PDF: %s", type(exc).__name__)
        return None


def extract_pages(
    data: bytes | BinaryIO,
    *,
    password: str = "",
    skip: Collection[int] = (),
    progress: ProgressCallback = no_progress,
    options: ExtractionOptions = ExtractionOptions(),
    clock: Callable[[], float] = time.monotonic,
    skipped_had_text: bool = True,
    only: range | None = None,
) -> Iterator[ExtractedPage]:
    """Yield one ExtractedPage per page not in `skip`, in page order.

    `only` limits the work to a range of page indexes (a part of a big document extracted in
    parallel, see services.document_extract_range): progress counts within the range, and the
    whole-document NoReadableText check is left to whoever assembles the parts.

    Raises the errors of `open_pdf`, TooManyPages before any page, ExtractionTooSlow between pages
    when `options.time_budget_s` is spent (at least one page is done per call, so retries always
    progress), and NoReadableText after the last page if no page had text. Pages in `skip` were
    stored by an earlier attempt; as their text is unknown here, they are assumed to have text
    unless the caller says `skipped_had_text=False`.
    """
    started = clock()
    raw = _as_bytes(data)
    reader, used_password = _open(raw, password)
    del password  # the pdfium handle below is all that still needs it
    n = page_count(reader)
    if n > options.page_cap:
        raise TooManyPages(n, options.page_cap)
    ocr_lang, ocr_off_note = _ocr_setup(options)
    document = _open_for_rendering(raw, used_password) if ocr_lang else None
    del used_password
    run = _Run(reader, document, page_labels(reader), ocr_lang, ocr_off_note, options, progress, Counter())
    wanted = range(n) if only is None else range(max(only.start, 0), min(only.stop, n))
    try:
        yield from _pages(run, wanted, {i for i in skip if i in wanted}, started, clock,
                          skipped_had_text, check_text=only is None)
    finally:
        if document is not None:
            document.close()


def _pages(
    run: _Run, wanted: range, skip: set[int], started: float, clock: Callable[[], float], skipped_had_text: bool,
    check_text: bool = True,
) -> Iterator[ExtractedPage]:
    n, total = run.total, len(wanted)
    run.progress("reading", done=0, total=total)
    done, extracted, found_text = len(skip), 0, bool(skip) and skipped_had_text
    if skip:
        run.progress("resuming", done=done, total=total, message=f"{done} pages already extracted")
    for index in wanted:
        if index in skip:
            continue
        if extracted and clock() - started >= run.options.time_budget_s:
            raise ExtractionTooSlow(done, total)
        page = run.page(index, done, total)
        done, extracted = done + 1, extracted + 1
        found_text = found_text or page.source != "empty"
        run.progress(f"extracting page {index + 1}/{n}", done=done, total=total)
        yield page
    if check_text and not found_text:
        raise NoReadableText.because(_no_text_reason(run.problems, n))


def _no_text_reason(problems: Counter, n: int) -> str:
    """Why a whole document came out empty: the most telling page problem and what OCR did."""
    if n == 0:
        return "it has no pages"
    kinds = {problem for problem, _ in problems}
    what = next((words for key, words in _PROBLEM_WORDS if key in kinds), "the pages have no text layer")
    ocr_notes: Counter = Counter()
    for (_, note), count in problems.items():
        ocr_notes[note] += count
    ocr = ocr_notes.most_common(1)[0][0] if ocr_notes else "OCR found no text"
    return f"{what}, and {_OCR_WORDS.get(ocr, ocr)}"


_PROBLEM_WORDS = (
    (GLYPH_CODES, "its text layer is glyph codes, not real text"),
    (UNREADABLE, "its text layer could not be read"),
    (NO_TEXT_LAYER, "the pages have no text layer"),
)
_OCR_WORDS = {
    "OCR found no text": "OCR found no text in the page images either",
    "OCR not available": "OCR is not available on this server",
    "OCR turned off": "OCR is turned off",
    "OCR timed out": "OCR timed out",
    "OCR failed": "OCR failed",
    "OCR found only glyph codes": "OCR found only glyph codes as well",
}
