"""What each line of a document is: body text, or a part that study material must not come from.

Concepts, relations, questions and explanation quotes come from body text only (`study_pages`).
Front matter (title block, authors, affiliations, e-mails, keywords, copyright), running heads and
page numbers, contents, references and index never do; captions and table rows are left out too,
as weak evidence at most. Lines are labelled, never rewritten: the study text of a page is its
stored text with the other lines blanked, so every quote taken from it is still verbatim on the page.

Pure functions over the pages' text; the patterns per language are in regions_patterns.py.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from enum import StrEnum

from studyapp.documents import regions_patterns as pat

EDGE_LINES = 3  # running heads and footers are among a page's first or last lines
MIN_REPEATS = 3  # a line at the edge of this many pages is the document's furniture
RUNNING_DENSITY = 0.4  # ... when it is on this share of the pages of its stretch (not "Proof:" now and then)
WRAP_SHARE = 0.8  # a line this long (of the page's long lines) wraps on to the next one
REFERENCE_SHARE = 0.35  # a page after the references heading with fewer such lines ends them
LISTING_SHARE = 0.5  # of a contents or index page's lines that end with page numbers
FRONT_PAGES = 2  # where a title block, authors and affiliations can be
TITLE_LINES = 4  # a first page's title block without an abstract heading is at most this long
INDEX_TAIL = 0.2  # the index heading is in this last share of the pages


class Part(StrEnum):
    BODY = "body"
    FURNITURE = "furniture"  # running heads, footers, page numbers, printer's marks
    FRONT = "front"  # title block, authors, affiliations, e-mails, keywords, copyright
    CONTENTS = "contents"
    REFERENCES = "references"
    INDEX = "index"
    CAPTION = "caption"
    TABLE = "table"


def study_pages(pages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(label, text) pages with every line that is not body text blanked; pages left empty are dropped."""
    labels = label_lines([text for _, text in pages])
    studied = []
    for (label, text), parts in zip(pages, labels):
        lines = text.split("\n")
        kept = "\n".join(line if part is Part.BODY else "" for line, part in zip(lines, parts)).strip("\n")
        if kept.strip():
            studied.append((label, kept))
    return studied


def label_lines(pages: list[str]) -> list[list[Part]]:
    """One Part per line (text.split("\\n")) of each page."""
    lines = [page.split("\n") for page in pages]
    labels = [[Part.BODY] * len(page) for page in lines]
    _mark_furniture(lines, labels)
    _mark_front_matter(lines, labels)
    _mark_listings(lines, labels)
    _mark_references(lines, labels)
    _mark_index(lines, labels)
    _mark_captions_and_tables(lines, labels)
    return labels


def _edges(page: list[str]) -> list[int]:
    """The indexes of the page's first and last EDGE_LINES non-empty lines."""
    filled = [i for i, line in enumerate(page) if line.strip()]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def _mark_furniture(lines: list[list[str]], labels: list[list[Part]]) -> None:
    """Page numbers and symbol debris at a page's edge; lines that start or end with the page's
    own number ("8 1.2. METRIC SPACES"); and edge lines repeated on many pages of a stretch."""
    offsets = _page_number_offsets(lines)
    groups: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for p, page in enumerate(lines):
        for i in _edges(page):
            line = page[i].strip()
            if pat.PAGE_NUMBER.match(line) or not pat.LETTER_OR_DIGIT.search(line):
                labels[p][i] = Part.FURNITURE
            elif any(n - p in offsets for n in _outer_numbers(line)):
                labels[p][i] = Part.FURNITURE
            else:
                groups[line.lower()].append((p, i))
    for members in groups.values():
        pages = sorted({p for p, _ in members})
        if len(pages) >= MIN_REPEATS and len(pages) / (pages[-1] - pages[0] + 1) >= RUNNING_DENSITY:
            for p, i in members:
                labels[p][i] = Part.FURNITURE


def _page_number_offsets(lines: list[list[str]]) -> set[int]:
    """How the printed page numbers run against the page index (printed 8 on the 10th page: -2),
    from the numbers that start or end a page's first or last line; an offset counts once it is
    seen on MIN_REPEATS pages (a book has a few: roman front matter, arabic body)."""
    seen: Counter[int] = Counter()
    for p, page in enumerate(lines):
        filled = [line.strip() for line in page if line.strip()]
        outer = {n - p for line in filled[:1] + filled[-1:] for n in _outer_numbers(line)}
        seen.update(outer)
    return {offset for offset, count in seen.items() if count >= MIN_REPEATS}


def _outer_numbers(line: str) -> list[int]:
    return [int(first or last) for first, last in pat.OUTER_NUMBER.findall(line)]


def _mark_front_matter(lines: list[list[str]], labels: list[list[Part]]) -> None:
    for p, page in enumerate(lines[:FRONT_PAGES]):
        start = _first_matching(page, pat.BODY_START)
        if start is None:
            start = next((i for i, line in enumerate(page) if pat.INLINE_ABSTRACT.match(line.strip())), None)
        if p == 0 and start is None:
            start = _title_block_end(page)
        if p == 0:
            # The title itself is the document's best summary of what it is about: it stays (a
            # heading); the rest of the block (subtitle, authors, date) goes.
            title = next((i for i, line in enumerate(page[:start]) if line.strip()), None)
            for i in range(start):
                labels[p][i] = Part.BODY if i == title else Part.FRONT
        for i, line in enumerate(page):
            if _is_address_line(line):
                labels[p][i] = Part.FRONT
    for p, page in enumerate(lines):
        for i, line in enumerate(page):
            if pat.LEGAL.search(line):
                labels[p][i] = Part.FRONT
            elif pat.KEYWORDS.match(line):
                for j in _continued(page, i, limit=3):
                    labels[p][j] = Part.FRONT


def _title_block_end(page: list[str]) -> int:
    """Where the body starts on a first page without an abstract or introduction heading: after
    the short lines at its top that end no sentence (a title, a subtitle, an author, a date)."""
    wrap = WRAP_SHARE * _long_line(page)
    end = 0
    for i, line in enumerate(page[:TITLE_LINES]):
        text = line.strip()
        if not text:
            continue
        if len(text) >= wrap or text.endswith((".", "!", "?", ":", ";", ",")) or re.match(r"\d+(?:\.\d+)*\.?\s", text):
            break  # a sentence, or the first numbered section heading
        end = i + 1
    return end if any(line.strip() for line in page[end:]) else 0


def _is_address_line(line: str) -> bool:
    """An author's affiliation or e-mail line: short, no sentence (a sentence that names a
    university is body text)."""
    stripped = line.strip()
    short = len(stripped.split()) <= 12 and not stripped.endswith(".") and not stripped[:1].islower()
    return short and bool(pat.AFFILIATION.search(line) or pat.EMAIL.search(line))


def _continued(page: list[str], start: int, limit: int) -> list[int]:
    """The line at `start` and the lines it wraps on to (up to `limit` more): a line continues
    while it is about as long as the page's long lines and does not end a sentence."""
    wrap = WRAP_SHARE * _long_line(page)
    taken = [start]
    for i in range(start + 1, min(len(page), start + limit + 1)):
        previous, line = page[i - 1].rstrip(), page[i].strip()
        if previous.endswith(".") or not line:
            break
        if len(previous) < wrap and not previous.endswith((",", ";")):  # a list goes on after a comma
            break
        if len(line) < wrap and line[0].isupper():  # a short capitalised line: the next heading
            break
        taken.append(i)
    return taken


def _long_line(page: list[str]) -> int:
    """The length of the page's long lines (its text width), robust to a few overlong ones."""
    lengths = sorted(len(line.rstrip()) for line in page if line.strip())
    return lengths[int(len(lengths) * 0.9)] if lengths else 0


def _first_matching(page: list[str], pattern: re.Pattern) -> int | None:
    return next((i for i, line in enumerate(page) if pattern.match(line.strip())), None)


def _mark_listings(lines: list[list[str]], labels: list[list[Part]]) -> None:
    """Contents: dot-leader lines anywhere; a page under a contents heading, and the pages that
    continue it, when most of their lines end with a page number."""
    in_contents = False
    for p, page in enumerate(lines):
        heading = _first_matching(page[:EDGE_LINES + 2], pat.CONTENTS_HEADING)
        in_contents = (heading is not None or in_contents) and _listing_share(page) >= LISTING_SHARE
        for i, line in enumerate(page):
            if in_contents or pat.DOT_LEADER.search(line):
                labels[p][i] = Part.CONTENTS


def _listing_share(page: list[str]) -> float:
    filled = [line for line in page if line.strip()]
    return sum(1 for line in filled if pat.ENDS_WITH_PAGE.search(line)) / max(1, len(filled))


def _mark_references(lines: list[list[str]], labels: list[list[Part]]) -> None:
    """From a references heading to the end, or until an appendix heading or a page that is no
    longer a list of references (the next chapter of a book with references per chapter)."""
    p = 0
    while p < len(lines):
        start = _first_matching(lines[p], pat.REFERENCES_HEADING)
        if start is None:
            p += 1
            continue
        p = _label_references_from(lines, labels, p, start)


def _label_references_from(lines, labels, first_page: int, start: int) -> int:
    for p in range(first_page, len(lines)):
        page = lines[p]
        begin = start if p == first_page else 0
        if p > first_page and _reference_share(page) < REFERENCE_SHARE:
            return p
        for i in range(begin, len(page)):
            if i > begin and pat.APPENDIX_HEADING.match(page[i].strip()):
                return p + 1
            labels[p][i] = Part.REFERENCES
    return len(lines)


def _reference_share(page: list[str]) -> float:
    filled = [line for line in page if line.strip()]
    return sum(1 for line in filled if pat.REFERENCE_LINE.search(line)) / max(1, len(filled))


def _mark_index(lines: list[list[str]], labels: list[list[Part]]) -> None:
    first_candidate = int(len(lines) * (1 - INDEX_TAIL))
    for p in range(first_candidate, len(lines)):
        start = _first_matching(lines[p][:EDGE_LINES + 2], pat.INDEX_HEADING)
        if start is not None and _listing_share(lines[p]) >= LISTING_SHARE / 2:
            for q in range(p, len(lines)):
                for i in range(start if q == p else 0, len(lines[q])):
                    labels[q][i] = Part.INDEX
            return


def _mark_captions_and_tables(lines: list[list[str]], labels: list[list[Part]]) -> None:
    for p, page in enumerate(lines):
        for i, line in enumerate(page):
            if labels[p][i] is not Part.BODY:
                continue
            if pat.CAPTION.match(line.strip()) or len(pat.SUBFIGURE.findall(line)) >= 2:
                for j in _continued(page, i, limit=3):
                    labels[p][j] = Part.CAPTION
            elif _is_table_row(line):
                labels[p][i] = Part.TABLE


def _is_table_row(line: str) -> bool:
    """A row of numbers, or a line that is mostly digits and symbols (a number block, a formula)."""
    tokens = line.split()
    if len(tokens) < 3:
        return False
    numeric = sum(1 for t in tokens if pat.NUMBER_TOKEN.match(t))
    letters = sum(1 for ch in line if ch.isalpha())
    visible = sum(1 for ch in line if not ch.isspace())
    return numeric / len(tokens) >= 0.4 or (numeric > 0 and letters / visible < 0.5)


def cited_people(pages: list[str]) -> set[str]:
    """The surnames the document cites as authors: "Gal et al.", "Gal and Franz [12]", "Gal (2009)"
    in its text, "Gal, A." and "A. Gal," at the start of its references. Study material never
    makes a concept of them."""
    labels = label_lines(pages)
    people: set[str] = set()
    for page, parts in zip(pages, labels):
        people.update(m.group(1) for m in pat.CITED_AUTHOR.finditer(page))
        people.update(m.group(2) for m in pat.CITED_AUTHOR.finditer(page) if m.group(2))
        for line, part in zip(page.split("\n"), parts):
            if part is Part.REFERENCES:
                people.update(name for match in pat.REFERENCE_AUTHOR.finditer(line) for name in match.groups() if name)
    return people
