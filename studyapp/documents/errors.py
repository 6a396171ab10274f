"""Errors of PDF extraction, in words a student can act on.

Each class has a default message (or builds it from its arguments) so the job layer can show
`str(error)` as it is; none of them ever carries a password or a raw traceback.
"""

from __future__ import annotations

from studyapp.core.errors import PermanentError, TransientError


class PasswordRequired(PermanentError):
    """The PDF is encrypted and opening it needs a password that was not given."""

    def __init__(self, message: str = "This PDF is password-protected: password required.") -> None:
        super().__init__(message)


class WrongPassword(PermanentError):
    """A password was given but it does not open the PDF."""

    def __init__(self, message: str = "The password for this PDF is wrong.") -> None:
        super().__init__(message)


class UnsupportedEncryption(PermanentError):
    """The PDF uses an encryption (e.g. AES) that the installed PDF library cannot decrypt."""

    def __init__(self, message: str = "This PDF uses an encryption method the server cannot open.") -> None:
        super().__init__(message)


class BrokenPdf(PermanentError):
    """The bytes start like a PDF but its structure cannot be read."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"This file is damaged and cannot be read as a PDF ({reason}).")
        self.reason = reason

    def __reduce__(self):  # pickle/copy rebuild from the constructor's arguments, not the message
        return (type(self), (self.reason,))


class NotAPdf(PermanentError):
    """The bytes are not a PDF at all, whatever the file name says."""

    def __init__(self, message: str = "This file is not a PDF.") -> None:
        super().__init__(message)


class TooManyPages(PermanentError):
    """The PDF is longer than the page cap; refused before any page is extracted."""

    def __init__(self, pages: int, limit: int) -> None:
        super().__init__(f"This PDF has {pages} pages; the limit is {limit}.")
        self.pages = pages
        self.limit = limit

    def __reduce__(self):
        return (type(self), (self.pages, self.limit))


class NoReadableText(PermanentError):
    """No page of the whole document gave usable text; the message says why (see `because`)."""

    def __init__(self, message: str = "No readable text was found in this PDF.") -> None:
        super().__init__(message)

    @classmethod
    def because(cls, reason: str) -> NoReadableText:
        return cls(f"No readable text was found in this PDF: {reason}.")


class ExtractionTooSlow(TransientError):
    """The time budget of one attempt is spent; pages yielded so far stay valid and a retry resumes."""

    def __init__(self, done: int, total: int, retry_after: float | None = None) -> None:
        super().__init__(
            f"Reading this PDF is taking long: {done} of {total} pages done so far; it will continue.",
            retry_after=retry_after,
        )
        self.done = done
        self.total = total

    def __reduce__(self):
        return (type(self), (self.done, self.total, self.retry_after))


class PdfTooDemanding(PermanentError):
    """Reading the PDF would take more memory, data, depth or CPU time than a worker allows: a
    decompression bomb, or a file no student's material needs. Refused, never OCRed as a scan."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"This PDF {reason}; it cannot be processed.")
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.reason,))
