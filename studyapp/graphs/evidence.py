"""Finding and checking evidence in the document's own text.

Everything the graph cites is checked against the page it cites: a quote must occur on its page
(after normalising case and whitespace), and a concept's pages are the pages that mention it.
"""

from __future__ import annotations

import re
import unicodedata

from studyapp.ai.schemas import Evidence
from studyapp.ai.text import sentences


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\u2010-\u2015\u00ad]", "-", text)  # dashes and soft hyphens
    text = re.sub(r"[\u2018\u2019\u201c\u201d\"'`]", "", text)
    return " ".join(text.split())


class PageIndex:
    """The document's pages, normalised once, for quote and mention look-ups."""

    def __init__(self, pages: list[tuple[str, str]]):
        self.pages = pages
        self.normalised = [(label, normalise(text)) for label, text in pages]
        self.labels = {label for label, _ in pages}

    def quote_on_page(self, quote: str, label: str) -> bool:
        needle = normalise(quote)
        return bool(needle) and any(l == label and needle in text for l, text in self.normalised)

    def page_of_quote(self, quote: str) -> str | None:
        needle = normalise(quote)
        if len(needle) < 8:
            return None
        return next((label for label, text in self.normalised if needle in text), None)

    def pages_mentioning(self, names: set[str]) -> list[str]:
        patterns = [_word_pattern(n) for n in names if len(normalise(n)) >= 2]
        found = []
        for label, text in self.normalised:
            if label not in found and any(p.search(text) for p in patterns):
                found.append(label)
        return found

    def mentions(self, names: set[str], *, limit: int = 3, together_with: set[str] | None = None) -> list[Evidence]:
        """Sentences that mention one of `names` (and, if given, one of `together_with`)."""
        patterns = [_word_pattern(n) for n in names if len(normalise(n)) >= 2]
        others = [_word_pattern(n) for n in (together_with or set()) if len(normalise(n)) >= 2]
        found: list[Evidence] = []
        for label, text in self.pages:
            for sentence in sentences(text):
                lowered = normalise(sentence.text)
                if any(p.search(lowered) for p in patterns) and (not others or any(p.search(lowered) for p in others)):
                    found.append(Evidence(page=label, quote=sentence.text[:400]))
                    if len(found) >= limit:
                        return found
        return found


def _word_pattern(name: str) -> re.Pattern:
    words = [re.escape(w) for w in normalise(name).split()]
    # A final 's' or 'es' is allowed so 'cell' finds 'cells'.
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?:e?s)?(?!\w)")
