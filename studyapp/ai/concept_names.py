"""Names that are no concept, whichever provider proposed them: the checks every concept of a graph
passes before it is merged (the local provider also applies them while it ranks candidates)."""

from __future__ import annotations

import re

from studyapp.ai.text import stopwords

MAX_NAME_CHARS = 80

# Punctuation that may end a name of a term ("C++", "C#") is kept; a hyphen at either end is the
# remnant of a word split at a line end ("selec-", "-tive").
_SPLIT_REMNANT = re.compile(r"^-|-$")


def lost_apostrophe(word: str, stop: frozenset[str]) -> bool:
    """ "heres", "thats", "theyre": a contraction (a function word) whose apostrophe the PDF lost."""
    lowered = word.lower()
    return "'" not in lowered and any(f"{lowered[:i]}'{lowered[i:]}" in stop for i in range(1, len(lowered)))


def junk_reason(name: str, language: str) -> str | None:
    """Why `name` is no concept (None if it may be one)."""
    words = name.split()
    if not words or len(name) > MAX_NAME_CHARS:
        return "empty or too long"
    if not any(ch.isalpha() for ch in name):
        return "no word"
    stop = stopwords(language)
    if words[0].lower() in stop or words[-1].lower() in stop:
        return "begins or ends with a function word"
    if any(lost_apostrophe(word, stop) for word in words):
        return "a contraction"
    if _SPLIT_REMNANT.search(words[0]) or _SPLIT_REMNANT.search(words[-1]):
        return "a piece of a word"
    return None
