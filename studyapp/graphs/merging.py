"""Merging per-chunk answers into one graph.

Conservative on purpose: names merge when they normalise to the same key (case, punctuation,
plural/singular), when one is the other's abbreviation in parentheses, or when they are near
duplicates by string similarity. A name joins a group only if it is close to the group's first
(most important) name, never because it resembles another member: no transitive chains such as
"cell" -> "cells" -> "cell wall".
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from studyapp.ai.concept_names import junk_reason
from studyapp.ai.schemas import ChunkConcepts, RelationType

SIMILARITY = 92  # rapidfuzz ratio (0-100) above which two names are the same concept
_ABBREVIATION = re.compile(r"^(?P<long>[^()]{3,}?)\s*\((?P<short>[^()]{2,12})\)$")
_NON_WORD = re.compile(r"[^\w\s-]+")


def concept_key(name: str) -> str:
    """Normalised name: NFKC, lower case, no punctuation, singular last word."""
    text = unicodedata.normalize("NFKC", name).lower()
    text = _NON_WORD.sub(" ", text).replace("-", " ")
    words = text.split()
    if words:
        words[-1] = singular(words[-1])
    return " ".join(words)


def singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "ous")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def split_abbreviation(name: str) -> tuple[str, str | None]:
    """'Deoxyribonucleic acid (DNA)' -> ('Deoxyribonucleic acid', 'DNA')."""
    match = _ABBREVIATION.match(name.strip())
    if not match:
        return name.strip(), None
    return match["long"].strip(), match["short"].strip()


# The first chunk's concepts (the abstract and introduction of a paper) count this much more. On 40
# Nguyen2007 papers, F1@10 went 0.190 -> 0.202 (1.5), 0.211 (2.5), 0.214 (4); 2 keeps a book's
# preface from outweighing its chapters.
OPENING_BOOST = 2.0


@dataclass
class MergedConcept:
    name: str
    key: str
    aliases: set[str] = field(default_factory=set)
    description: str = ""
    importance: float = 0.0
    mentions: int = 0
    pages: set[str] = field(default_factory=set)
    weight: float = 0.0  # the chunks' importances summed: how much of the document is about it
    first: int = 0  # the chunk that first names it: ties go to what the document introduces first

    def names(self) -> set[str]:
        return {self.name, *self.aliases}


@dataclass
class MergedRelation:
    source: str  # concept keys
    target: str
    type: RelationType
    description: str
    page: str
    quote: str
    weight: float = 1.0


@dataclass
class MergedGraph:
    concepts: dict[str, MergedConcept]
    relations: list[MergedRelation]


def merge_chunks(results: list[ChunkConcepts], *, max_concepts: int = 60, language: str = "en",
                 people: frozenset[str] = frozenset()) -> MergedGraph:
    """One graph from the chunks' answers; a name that is no concept (ai.concept_names), or that is
    made of the names of `people` the document cites, is dropped whichever provider gave it, and
    with it its relations."""
    groups = _group_concepts(results, language, people)
    alias_index = {concept_key(n): key for key, c in groups.items() for n in c.names()}
    relations = _merge_relations(results, alias_index)
    kept = _cap(groups, relations, max_concepts)
    relations = [r for r in relations if r.source in kept and r.target in kept]
    return MergedGraph(concepts=kept, relations=relations)


def _group_concepts(results: list[ChunkConcepts], language: str, people: frozenset[str]) -> dict[str, MergedConcept]:
    raw = [(index, c) for index, result in enumerate(results) for c in result.concepts
           if junk_reason(c.name, language) is None and not _a_person(c.name, people)]
    # Most important first, so each group's first name (its representative) is the best one.
    raw.sort(key=lambda item: -item[1].importance)
    groups: dict[str, MergedConcept] = {}
    for chunk, concept in raw:
        name, abbreviation = split_abbreviation(concept.name)
        names = [name, *(a for a in concept.aliases if a), *([abbreviation] if abbreviation else [])]
        group = _find_group(groups, names)
        if group is None:
            group = groups.setdefault(concept_key(name), MergedConcept(name=name, key=concept_key(name), first=chunk))
        group.aliases.update(n for n in names if concept_key(n) != group.key)
        group.importance = max(group.importance, concept.importance)
        group.weight += concept.importance
        group.first = min(group.first, chunk)
        group.mentions += 1
        group.pages.update(concept.pages)
        if len(concept.description) > len(group.description):
            group.description = concept.description
    return groups


def _a_person(name: str, people: frozenset[str]) -> bool:
    """ "Gal", "Andreas Gal": capitalised words of which the last is a cited author's surname."""
    words = name.split()
    return bool(people) and all(w[:1].isupper() for w in words) and words[-1] in people


def _find_group(groups: dict[str, MergedConcept], names: list[str]) -> MergedConcept | None:
    keys = [concept_key(n) for n in names if concept_key(n)]
    for key in keys:
        if key in groups:
            return groups[key]
        for group in groups.values():
            if key in {concept_key(a) for a in group.aliases}:
                return group
    for key in keys:
        for group in groups.values():
            if _near_duplicate(key, group.key):
                return group
    return None


def _near_duplicate(a: str, b: str) -> bool:
    """Similar strings that differ only at the end (plural endings, a German -e/-en) or in spaces
    and hyphens ("Hausdorff-Raum", "Hausdorffraum"). A change inside the word makes another
    word: Homomorphismus is not Homöomorphismus, though the two are 93% alike."""
    if min(len(a), len(b)) < 6 or re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return False
    if fuzz.ratio(a, b) < SIMILARITY:
        return False
    squashed_a, squashed_b = re.sub(r"[\s-]", "", a), re.sub(r"[\s-]", "", b)
    if squashed_a == squashed_b:
        return True
    shared = len(os.path.commonprefix([squashed_a, squashed_b]))
    return max(len(squashed_a), len(squashed_b)) - shared <= 2


def _merge_relations(results: list[ChunkConcepts], alias_index: dict[str, str]) -> list[MergedRelation]:
    merged: dict[tuple[str, str, str], MergedRelation] = {}
    for result in results:
        for rel in result.relations:
            source = alias_index.get(concept_key(split_abbreviation(rel.source)[0]))
            target = alias_index.get(concept_key(split_abbreviation(rel.target)[0]))
            if not source or not target or source == target:
                continue  # an end that is not a concept, or a self-loop
            key = (source, target, rel.type.value)
            if key in merged:
                merged[key].weight += 1
                continue
            merged[key] = MergedRelation(source, target, rel.type, rel.description, rel.page, rel.quote)
    return list(merged.values())


def _cap(groups: dict[str, MergedConcept], relations: list[MergedRelation],
         max_concepts: int) -> dict[str, MergedConcept]:
    """Keep the document's key ideas and score them 0..1 against the best.

    A chunk scores its own concepts 0..1 with its best at 1.0, so the highest score alone
    saturates (every chunk has a best). The document's score adds up what each chunk said, counts
    how far the concept spreads over pages, and prefers concepts the document relates to others;
    ties go to the concept named first, never to the alphabet. What the opening (an abstract, an
    introduction, a preface) names counts more: it is where a document says what it is about.
    """
    degree: Counter[str] = Counter()
    for relation in relations:
        typed = relation.type != RelationType.RELATED_TO
        degree.update({relation.source: 2 if typed else 1, relation.target: 2 if typed else 1})

    def score(concept: MergedConcept) -> float:
        spread = 1 + 0.5 * math.log2(1 + len(concept.pages))
        opening = OPENING_BOOST if concept.first == 0 else 1.0
        return concept.weight * spread * (1 + 0.1 * min(degree[concept.key], 6)) * opening

    ranked = sorted(groups.values(), key=lambda c: (-score(c), c.first, c.key))[:max_concepts]
    best = score(ranked[0]) if ranked else 1.0
    for concept in ranked:
        concept.importance = round(score(concept) / best, 4) if best > 0 else 0.0
    return {c.key: c for c in ranked}


def pages_by_key(groups: dict[str, MergedConcept]) -> dict[str, set[str]]:
    return defaultdict(set, {key: set(c.pages) for key, c in groups.items()})
