"""What a quiz asks about: the concepts to test, the passages that state them, and the requests
to the provider (a few questions per call, so calls run concurrently and each answer is cached).

The passages are statements from the document's pages (verbatim, whitespace normalised) that make
good quiz sentences (studyapp.ai.questions.quotable) and name the concept on its own (a mention of
"cell" inside "cell division" does not count).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from studyapp.ai import relations as rel
from studyapp.ai.providers.local import statements
from studyapp.ai.questions import quotable, usable_name
from studyapp.ai.schemas import Difficulty, Evidence, QuestionType, QuizConcept, QuizInput, QuizRelation, RelationType
from studyapp.graphs.models import Concept, ConceptGraph, Relation

QUESTIONS_PER_CALL = 5
PASSAGES_PER_CONCEPT = 4
RELATIONS_PER_CALL = 40
DESCRIPTION_CHARS = 200
EXTRA_FOCUS = 3  # concepts beyond one per question, so a dropped question can be replaced


@dataclass
class FocusConcept:
    concept: Concept
    passages: list[Evidence]
    defined: bool
    score: float


@dataclass
class QuizMaterial:
    language: str
    focus: list[FocusConcept]
    concepts: list[Concept]
    relations: list[Relation] = field(default_factory=list)

    def inputs(self, types: list[QuestionType], difficulty: Difficulty, *, avoid: list[str],
               round: int) -> list[QuizInput]:
        """The provider requests for `types` (one entry per question), QUESTIONS_PER_CALL each; the
        focus concepts are dealt out over the calls so each call asks about different ones."""
        calls = max(1, math.ceil(len(types) / QUESTIONS_PER_CALL))
        requests = []
        for index in range(calls):
            focus = self.focus[index::calls] or self.focus[index % len(self.focus):][:1]
            chunk = types[index * QUESTIONS_PER_CALL:(index + 1) * QUESTIONS_PER_CALL]
            requests.append(self._input(chunk, focus, difficulty, avoid, round))
        return requests

    def _input(self, types, focus: list[FocusConcept], difficulty, avoid, round) -> QuizInput:
        focus_ids = {f.concept.pk for f in focus}
        concepts = [_quiz_concept(f.concept, True) for f in focus]
        concepts += [_quiz_concept(c, False) for c in self.concepts if c.pk not in focus_ids]
        unique = {_key(p.quote): p for f in focus for p in f.passages}
        passages = list(unique.values())
        relations = [QuizRelation(source=r.source.name, target=r.target.name, type=RelationType(r.type), page=r.page,
                                  quote=r.quote)
                     for r in self.relations if r.source_id in focus_ids or r.target_id in focus_ids]
        return QuizInput(types=types, difficulty=difficulty, concepts=concepts, relations=relations[:RELATIONS_PER_CALL],
                         passages=passages, language=self.language, avoid=avoid, round=round)


def _key(quote: str) -> str:
    return " ".join(quote.split()).lower()


def _quiz_concept(concept: Concept, focus: bool) -> QuizConcept:
    return QuizConcept(name=concept.name, aliases=list(concept.aliases), description=concept.description[:DESCRIPTION_CHARS],
                       importance=concept.importance, pages=list(concept.pages), focus=focus)


def quiz_material(*, graph: ConceptGraph, pages: list[tuple[str, str]], difficulty: Difficulty,
                  count: int, language: str) -> QuizMaterial:
    """The graph's concepts ranked for a quiz: each with the quotable statements that name it."""
    concepts = list(graph.concepts.all())
    relations = list(graph.relations.select_related("source", "target"))
    by_page = {label: [s for s in statements(text, language) if quotable(s)] for label, text in pages}
    typed = {}
    for relation in relations:
        if relation.type != RelationType.RELATED_TO:
            typed[relation.source_id] = typed.get(relation.source_id, 0) + 1
    ranked = []
    for concept in concepts:
        if not usable_name(concept.name):
            continue
        passages, defined = _passages(concept, concepts, by_page, language)
        if passages:
            ranked.append(FocusConcept(concept, passages, defined,
                                       _score(concept, defined, typed.get(concept.pk, 0), difficulty)))
    ranked.sort(key=lambda f: (-f.score, f.concept.name))
    return QuizMaterial(language=language, focus=ranked[: max(count, 1) + EXTRA_FOCUS], concepts=concepts,
                        relations=relations)


def _score(concept: Concept, defined: bool, typed_relations: int, difficulty: Difficulty) -> float:
    """Easy quizzes ask about the central, defined concepts; hard ones reach the relations and
    the concepts further down."""
    relations = min(typed_relations, 3) / 3
    if difficulty == Difficulty.EASY:
        return concept.importance + 1.0 * defined
    if difficulty == Difficulty.HARD:
        return 0.5 * concept.importance + 0.4 * defined + 0.4 * relations
    return concept.importance + 0.6 * defined + 0.1 * relations


def _passages(concept: Concept, concepts: list[Concept], by_page: dict[str, list[str]],
              language: str) -> tuple[list[Evidence], bool]:
    names = [concept.name, *concept.aliases]
    longer = [n for other in concepts if other.pk != concept.pk and len(other.name) > len(concept.name)
              for n in [other.name, *other.aliases]]
    found: list[tuple[int, int, Evidence]] = []
    for label in concept.pages:
        for position, statement in enumerate(by_page.get(label, [])):
            if not _names_on_its_own(statement, names, longer, language):
                continue
            strength = max(rel.definition_strength(statement, n, language) for n in names)
            found.append((-strength, len(found), Evidence(page=label, quote=statement)))
    found.sort(key=lambda item: item[:2])
    chosen = [evidence for _, _, evidence in found[:PASSAGES_PER_CONCEPT]]
    return chosen, bool(found) and -found[0][0] >= 2


def _names_on_its_own(text: str, names: list[str], longer: list[str], language: str) -> bool:
    spans = [s for n in names for s in rel.find_mentions(text, n, language)]
    if not spans:
        return False
    blocked = [s for n in longer for s in rel.find_mentions(text, n, language)]
    return any(not any(b[0] <= s[0] and s[1] <= b[1] and b[1] - b[0] > s[1] - s[0] for b in blocked) for s in spans)


def type_plan(types: list[QuestionType], count: int) -> list[QuestionType]:
    """`count` question types taking turns: [mc, tf, mc, tf, ...]."""
    return [types[i % len(types)] for i in range(count)]
