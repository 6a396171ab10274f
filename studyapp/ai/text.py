"""Offline text utilities for the ``local`` AI provider.

Everything here is pure Python and deterministic: no model downloads, no network, no
Django.  English and German are supported.

* :func:`sentences` / :func:`split_sentences` - rule-based sentence splitting that knows
  common abbreviations ("e.g.", "Dr.", "Fig. 3", "z. B.", "bzw."), decimals, initials,
  German ordinals ("am 3. Mai") and simple document structure (headings, bullets,
  blank-line paragraphs).
* :func:`tokenize` / :func:`iter_tokens` - word tokenisation with character offsets.
* :func:`estimate_tokens` - a cheap, conservative estimate of LLM tokens.
* :func:`stopwords` - English / German stopword lists shipped in ``studyapp/ai/data``.
* :func:`guess_language` - "en" or "de" from stopword ratios.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

__all__ = [
    "Sentence",
    "SUPPORTED_LANGUAGES",
    "estimate_tokens",
    "guess_language",
    "iter_tokens",
    "sentences",
    "split_sentences",
    "stopwords",
    "tokenize",
]

SUPPORTED_LANGUAGES = ("en", "de")
_DATA_DIR = Path(__file__).resolve().parent / "data"

# --------------------------------------------------------------------------------------
# Stopwords and language guess
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def stopwords(language: str = "en") -> frozenset[str]:
    """Lower-case stopwords for ``language`` ("en" or "de"; anything else -> English)."""
    lang = language if language in SUPPORTED_LANGUAGES else "en"
    words = set()
    with open(_DATA_DIR / f"stopwords_{lang}.txt", encoding="utf-8") as fh:
        for line in fh:
            word = line.strip()
            if word and not word.startswith("#"):
                words.add(word)
    return frozenset(words)


@lru_cache(maxsize=None)
def _exclusive_stopwords() -> tuple[frozenset[str], frozenset[str]]:
    en, de = stopwords("en"), stopwords("de")
    # Words in both lists ("in", "so", "also", "will", ...) carry no signal.
    return en - de, de - en


_ALPHA_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_GERMAN_CHARS_RE = re.compile(r"[äöüßÄÖÜ]")


def guess_language(text: str, *, default: str = "en") -> str:
    """Guess "en" or "de" by the ratio of language-specific stopwords.

    Only the first ~20k characters are inspected (enough for a stable guess and fast on
    long documents).  Returns ``default`` when the text gives no signal.
    """
    sample = text[:20000]
    en_only, de_only = _exclusive_stopwords()
    en = de = 0
    for match in _ALPHA_WORD_RE.finditer(sample):
        word = match.group().lower()
        if word in en_only:
            en += 1
        elif word in de_only:
            de += 1
    # Umlauts / sharp s are weak extra evidence for German (a few per sentence).
    de += min(len(_GERMAN_CHARS_RE.findall(sample)), de + 5) * 0.25
    if en == 0 and de < 1:
        return default
    return "de" if de > en else "en"


# --------------------------------------------------------------------------------------
# Tokenisation
# --------------------------------------------------------------------------------------

# Order matters: numbers with decimal separators, "C++"/"C#", words with inner hyphens or
# apostrophes ("real-time", "don't", "Schüler-Innen"), then single punctuation marks.
_TOKEN_RE = re.compile(
    r"\d+(?:[.,]\d+)+"
    r"|[A-Za-z](?:\+\+|#)(?!\w)"
    r"|\w+(?:[-'’]\w+)*"
    r"|[^\w\s]"
)


def iter_tokens(text: str, *, punctuation: bool = False) -> Iterator[tuple[str, int, int]]:
    """Yield ``(token, start, end)`` with character offsets into ``text``."""
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if not punctuation and not (token[0].isalnum() or token[0] == "_"):
            continue
        yield token, match.start(), match.end()


def tokenize(text: str, *, punctuation: bool = False) -> list[str]:
    """Split ``text`` into word tokens (and punctuation marks if ``punctuation``)."""
    return [tok for tok, _, _ in iter_tokens(text, punctuation=punctuation)]


def estimate_tokens(text: str) -> int:
    """Estimate how many LLM (BPE) tokens ``text`` costs, without a tokenizer.

    Two common rules of thumb are combined and the larger one is used:

    * ``words * 1.3`` - right for ordinary English prose (about 0.75 words per token);
    * ``chars / 4``  - right for text with long words, numbers, code, URLs and for German,
      whose long compounds split into many tokens while counting as one word.

    Taking the maximum errs on the side of over-estimating, which is the safe direction
    for budgeting context windows and costs.  Empty / whitespace-only text costs 0.
    """
    if not text or text.isspace():
        return 0
    words = sum(1 for _ in iter_tokens(text))
    return max(1, math.ceil(max(words * 1.3, len(text) / 4)))


# --------------------------------------------------------------------------------------
# Sentence splitting
# --------------------------------------------------------------------------------------

# Lower-case, without the final period.  A period after one of these does not end a
# sentence.  ("etc." is deliberately absent: it often ends one.)
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt rev gen col capt lt sgt hon
    fig figs eq eqs eqn ref refs sec sect ch chap tab vol vols no nos nr pp p para art
    approx appx cf vs viz al ed eds esp est dept univ inc ltd co corp jan feb mar apr jun
    jul aug sep sept oct nov dec min max resp incl excl ca e.g i.e e.i a.k.a
    abb bzw bspw d.h evtl ggf hr fr frl hrsg inkl jh jhd mio mrd s u.a u.ä vgl z.b
    z.t zzgl u.u o.ä sog spez abs anm bd bde ff hg s.o s.u u.v.m v.a dt engl lat
    """.split()
)

_MONTHS = frozenset(
    """
    january february march april may june july august september october november december
    januar februar märz mai juni juli oktober dezember
    """.split()
)

# Words before a German ordinal number: "am 3. Mai", "der 2. Weltkrieg", "im 19. Jh."
_DE_ORDINAL_CONTEXT = frozenset(
    "am im vom zum zur bis ab seit der die das den dem des ein eine einem einen einer".split()
)

# Candidate sentence ends: terminal punctuation, closing quotes/brackets, then whitespace.
_BOUNDARY_RE = re.compile(r"(\.{2,}|…|[.!?]+)([\"'”’»)\]]*)(\s+)")
_BULLET_RE = re.compile(r"\s*(?:[•▪◦●■□◆►‣⁃*·–—-]|\(?\d{1,2}[.)]|\(?[a-z][)])\s+\S")
_NUMBERED_HEADING_RE = re.compile(r"\s*(?:\d+(?:\.\d+)*\.?|[IVX]+\.|[A-Z]\.)\s+\S")
_TERMINAL_PUNCT = ".!?:;,"
_MAX_TITLE_LINES = 3  # a title at the start of a block may wrap over this many lines


@dataclass(frozen=True)
class Sentence:
    """One sentence: whitespace-normalised ``text`` and its span in the original string."""

    text: str
    start: int
    end: int
    heading: bool = False


def _lines(block: str, offset: int) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in block.split("\n"):
        if line.strip():
            spans.append((offset + pos, offset + pos + len(line)))
        pos += len(line) + 1
    return spans


def _starts_upper(s: str) -> bool:
    s = s.lstrip(" \t\"'“„‘«([")
    return bool(s) and (s[0].isupper() or s[0].isdigit())


def _is_heading(line: str, prev: str | None, nxt: str | None, prev_heading: bool = False) -> bool:
    stripped = line.strip()
    if not stripped or stripped[-1] in _TERMINAL_PUNCT or not any(c.isalpha() for c in stripped):
        return False
    if _BULLET_RE.match(line) and not _NUMBERED_HEADING_RE.match(line):
        return False
    if re.search(r"[^\W\d_]{2}[.!?]\s+\S", stripped):
        return False  # contains a sentence end: prose, not a heading
    n_words = len(stripped.split())
    # The first line of a block may be a long title; elsewhere headings are short.
    limit_words, limit_chars = (20, 160) if prev is None else (10, 70)
    if n_words > limit_words or len(stripped) > limit_chars:
        return False
    if not (_starts_upper(stripped) or _NUMBERED_HEADING_RE.match(line)):
        return False
    if (
        prev is not None
        and not prev_heading
        and prev.rstrip()[-1:] not in ".!?:"
        and not _BULLET_RE.match(prev)
    ):
        return False
    return nxt is None or _starts_upper(nxt) or bool(_BULLET_RE.match(nxt))


def _segments(text: str) -> list[tuple[int, int, bool]]:
    """Split into (start, end, is_heading) segments at blank lines, headings, bullets."""
    segments: list[tuple[int, int, bool]] = []
    for block in re.finditer(r"(?:[^\n]|\n(?![ \t\r\f\v]*\n))+", text):
        lines = _lines(block.group(), block.start())
        seg_start: int | None = None
        prev_heading = False
        i = 0
        while i < len(lines):
            ls, le = lines[i]
            line = text[ls:le]
            prev = text[lines[i - 1][0] : lines[i - 1][1]] if i > 0 else None
            heading_end = _heading_end(text, lines, i, prev, prev_heading)
            if heading_end is not None:
                if seg_start is not None:
                    segments.append((seg_start, lines[i - 1][1], False))
                    seg_start = None
                segments.append((ls, lines[heading_end][1], True))
                prev_heading = True
                i = heading_end + 1
                continue
            prev_heading = False
            if _BULLET_RE.match(line) and seg_start is not None:
                segments.append((seg_start, lines[i - 1][1], False))
                seg_start = None
            if seg_start is None:
                seg_start = ls
            i += 1
        if seg_start is not None:
            segments.append((seg_start, lines[-1][1], False))
    return segments


def _heading_end(
    text: str, lines: list[tuple[int, int]], i: int, prev: str | None, prev_heading: bool = False
) -> int | None:
    """Index of the last line of a heading starting at line ``i``, or None.

    A title at the start of a block may be wrapped over up to three lines
    ("A unified view for vector rotational CORDIC algorithms and architectures based" /
    "on angle quantization approach"); elsewhere headings are single lines.
    """
    max_lines = _MAX_TITLE_LINES if prev is None else 1
    for j in range(i, min(i + max_lines, len(lines))):
        part = [text[a:b] for a, b in lines[i : j + 1]]
        if any(p.rstrip()[-1:] in _TERMINAL_PUNCT for p in part[:-1]):
            return None
        nxt = text[lines[j + 1][0] : lines[j + 1][1]] if j + 1 < len(lines) else None
        if _is_heading(" ".join(p.strip() for p in part), prev, nxt, prev_heading):
            return j
    return None


def _is_boundary(text: str, seg_start: int, match: re.Match, language: str | None) -> bool:
    punct = match.group(1)
    after = text[match.end() : match.end() + 40].lstrip("\"'“„‘«([")
    if not after:
        return True
    nxt = after[0]
    if nxt.islower():
        return False  # "e.g. this", "approx. twice", "...and so on"
    if "!" in punct or "?" in punct or len(punct) > 1 or punct == "…":
        return True
    # A single period: look at the word in front of it.
    window_start = max(seg_start, match.start() - 80)  # bounded look-back: linear time
    before = text[window_start : match.start()]
    m = re.search(r"(\S+)$", before)
    if not m:
        return True
    word = m.group(1).lstrip("\"'“„‘«([").lower()
    if window_start + m.start() == seg_start and re.fullmatch(r"\d+(?:\.\d+)*|[ivx]+|[a-z]", word):
        return False  # list / section numbering at the start: "1. Introduction", "IV. Results"
    if word in _ABBREVIATIONS:
        return False
    # "z. B." / "d. h." written with a space: the token before is a single letter.
    if len(word) == 1 and word.isalpha():
        return False  # initials "J. Smith", "z. B.", "vitamin C." (rare) is accepted
    if re.fullmatch(r"(?:[^\W\d_]\.)+[^\W\d_]", word):
        return False  # "U.S", "e.g", "z.B" style acronyms
    if word.isdigit() and len(word) <= 2:
        next_word = re.match(r"[^\W\d_]+", after)
        if next_word and next_word.group().lower() in _MONTHS:
            return False  # "3. Mai", "1. January"
        if language == "de":
            prev_word = re.search(r"(\S+)\s+\S+$", before)
            if prev_word and prev_word.group(1).lower() in _DE_ORDINAL_CONTEXT:
                return False  # "der 2. Weltkrieg", "im 19. Jahrhundert"
    return True


def _normalise_ws(s: str) -> str:
    return " ".join(s.split())


def sentences(text: str, language: str | None = None) -> list[Sentence]:
    """Split ``text`` into :class:`Sentence` objects (with offsets and a heading flag).

    ``language`` ("en"/"de") only refines German ordinals; ``None`` guesses it.
    """
    if not text or text.isspace():
        return []
    if language is None:
        language = guess_language(text)
    out: list[Sentence] = []
    for seg_start, seg_end, heading in _segments(text):
        if heading:
            out.append(Sentence(_normalise_ws(text[seg_start:seg_end]), seg_start, seg_end, True))
            continue
        start = seg_start
        for match in _BOUNDARY_RE.finditer(text, seg_start, seg_end):
            if match.end() >= seg_end:
                break  # trailing punctuation: the segment end closes the sentence
            if _is_boundary(text, start, match, language):
                if text[start : match.end(2)].strip():
                    out.append(_make_sentence(text, start, match.end(2)))
                start = match.end()
        if text[start:seg_end].strip():
            out.append(_make_sentence(text, start, seg_end))
    return out


def _make_sentence(text: str, start: int, end: int) -> Sentence:
    raw = text[start:end]
    lead = len(raw) - len(raw.lstrip())
    trail = len(raw) - len(raw.rstrip())
    return Sentence(_normalise_ws(raw), start + lead, end - trail, False)


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Split ``text`` into sentences (whitespace-normalised strings)."""
    return [s.text for s in sentences(text, language)]
