"""Words a typesetter split across a line end ("intermedi-" / "ate"), joined again.

Decided per document, once every page is stored: a split is joined when the whole word occurs
elsewhere in the document or in the language's word list, and kept as a hyphen when the hyphenated
form occurs inline elsewhere ("stop-the-world") or both halves are words in their own right
("state-of" / "the-art"). A half that is no word ("selec" / "tive") is always joined.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from functools import lru_cache

from wordfreq import available_languages, zipf_frequency

# Zipf >= 2 is about once per 10 million words: rare real words pass, OCR and split noise does not.
KNOWN_WORD_ZIPF = 2.0
# A half that is this common is a word on its own ("state", "zusammen"), not a fragment.
WHOLE_WORD_ZIPF = 3.0

_WORD = r"[^\W\d_]+"
# A word split at a line end: a hyphen (ASCII or the Unicode hyphen) with only a newline after it,
# the next line starting with a lowercase letter.
_SPLIT = re.compile(rf"({_WORD})[-\u2010]\n[ \t]*({_WORD})(\S*)[ \t]*\n?")
_INLINE_HYPHENATED = re.compile(rf"{_WORD}(?:-{_WORD})+")
_WORDS = re.compile(_WORD)


class Vocabulary:
    """The words and inline hyphenated forms of a document, and a word list for its language."""

    def __init__(self, texts: list[str], language: str,
                 frequency: Callable[[str, str], float] = zipf_frequency):
        self.words = Counter(w.lower() for text in texts for w in _WORDS.findall(_without_splits(text)))
        self.hyphenated = {h.lower() for text in texts for h in _INLINE_HYPHENATED.findall(text)}
        # A language without a word list (Latin, say) decides from the document's own words alone.
        self.language = language if language in _word_lists() else None
        self._frequency = frequency

    def known(self, word: str, zipf: float = KNOWN_WORD_ZIPF) -> bool:
        lowered = word.lower()
        return self.words[lowered] > 0 or self._zipf(lowered) >= zipf

    def common(self, word: str) -> bool:
        return self._zipf(word.lower()) >= WHOLE_WORD_ZIPF

    def _zipf(self, word: str) -> float:
        return self._frequency(word, self.language) if self.language else 0.0


@lru_cache(maxsize=1)
def _word_lists() -> frozenset[str]:
    return frozenset(available_languages())


def rejoin_split_words(text: str, vocabulary: Vocabulary) -> str:
    """The page's text with line-end splits joined ("intermedi-\\nate results" -> "intermediate\\nresults").

    The rest of the joined word moves up to the first line, so the line structure (and with it
    running heads and headings) stays as it was.
    """
    def join(match: re.Match) -> str:
        head, tail, rest = match.groups()
        if not _should_join(head, tail, vocabulary):
            return match.group(0)
        return f"{head}{tail}{rest}\n"

    joined = _SPLIT.sub(join, text)
    return joined if text.endswith("\n") else joined.rstrip("\n")


def _should_join(head: str, tail: str, vocabulary: Vocabulary) -> bool:
    if tail[0].isupper():  # "Schwarz-" / "Weiß", "Post-" / "Processing": a compound of names
        return False
    if f"{head}-{tail}".lower() in vocabulary.hyphenated:
        return False
    if vocabulary.known(head + tail):
        return True
    return not (vocabulary.common(head) and vocabulary.common(tail))


def _without_splits(text: str) -> str:
    """The text without its split words, so that "intermedi" and "ate" never count as words."""
    return _SPLIT.sub(" ", text)
