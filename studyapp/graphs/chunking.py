"""Splitting a document into chunks for the AI: about 600-1200 tokens, with overlap.

A chunk is a list of segments, each the text of one page with that page's printed label, so a
citation never leaves its text. Chunks end at sentence boundaries; the last sentences of a chunk
start the next one (overlap), so a relation stated across the boundary is seen whole once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from studyapp.ai.schemas import Segment
from studyapp.ai.text import estimate_tokens, sentences

TARGET_TOKENS = 900
MAX_TOKENS = 1200
OVERLAP_TOKENS = 120


@dataclass(frozen=True)
class Unit:
    page: str
    text: str
    tokens: int


@dataclass(frozen=True)
class Chunk:
    index: int
    segments: list[Segment]
    tokens: int

    @property
    def pages(self) -> str:
        first, last = self.segments[0].page, self.segments[-1].page
        return first if first == last else f"{first}-{last}"

    @property
    def content_hash(self) -> str:
        body = "\n".join(f"[{s.page}]{s.text}" for s in self.segments)
        return hashlib.sha256(body.encode()).hexdigest()


def make_chunks(pages: list[tuple[str, str]], *, target: int = TARGET_TOKENS, limit: int = MAX_TOKENS,
                overlap: int = OVERLAP_TOKENS) -> list[Chunk]:
    """`pages` are (label, text) in reading order; empty pages are skipped."""
    chunks: list[Chunk] = []
    current: list[Unit] = []
    carried = 0  # units at the start of `current` that the previous chunk already had
    for unit in _units(pages, limit):
        if current and _tokens(current) + unit.tokens > limit:
            chunks.append(_chunk(len(chunks), current))
            current = _tail(current, overlap)
            carried = len(current)
        current.append(unit)
        if _tokens(current) >= target:
            chunks.append(_chunk(len(chunks), current))
            current = _tail(current, overlap)
            carried = len(current)
    if len(current) > carried:
        chunks.append(_chunk(len(chunks), current))
    return chunks


def _units(pages: list[tuple[str, str]], limit: int) -> list[Unit]:
    units = []
    for label, text in pages:
        for sentence in sentences(text):
            units.extend(_split_long(label, sentence.text, limit))
    return units


def _split_long(label: str, text: str, limit: int) -> list[Unit]:
    """A 'sentence' longer than a chunk (a table, a formula dump) is cut at word boundaries."""
    tokens = estimate_tokens(text)
    if tokens <= limit // 2:
        return [Unit(label, text, tokens)]
    words, pieces, piece = text.split(), [], []
    for word in words:
        piece.append(word)
        if estimate_tokens(" ".join(piece)) >= limit // 2:
            pieces.append(" ".join(piece))
            piece = []
    if piece:
        pieces.append(" ".join(piece))
    return [Unit(label, p, estimate_tokens(p)) for p in pieces]


def _tokens(units: list[Unit]) -> int:
    return sum(u.tokens for u in units)


def _tail(units: list[Unit], overlap: int) -> list[Unit]:
    tail: list[Unit] = []
    for unit in reversed(units):
        if _tokens(tail) + unit.tokens > overlap:
            break
        tail.insert(0, unit)
    return tail


def _chunk(index: int, units: list[Unit]) -> Chunk:
    segments: list[Segment] = []
    for unit in units:
        if segments and segments[-1].page == unit.page:
            segments[-1] = Segment(page=unit.page, text=f"{segments[-1].text} {unit.text}")
        else:
            segments.append(Segment(page=unit.page, text=unit.text))
    return Chunk(index=index, segments=segments, tokens=_tokens(units))
