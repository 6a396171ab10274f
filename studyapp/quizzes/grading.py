"""Grading one answer: exact for choices, tolerant for typed answers.

Multiple choice and true/false are right only if the chosen option is the correct one (compared
without case, accents or spacing; true/false also as "t", "yes", "wahr", "falsch"...).

Fill-in-the-blank and short answers are compared after removing case, accents, punctuation and
leading articles ("The Mitochondrion" = "mitochondrion"), against the answer and every accepted
alternative (aliases, inflections). Small typos pass (rapidfuzz's Damerau-Levenshtein distance:
none for answers of up to 3 letters such as "DNA", 1 up to 7 letters, 2 up to 12, then 3), unless
the typed answer is another concept of the document, or closer to one than to the answer:
"Homomorphismus" is not a typo of "Homöomorphismus" when the document has both. Longer answers
(4+ words) pass when nearly all their words are there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein

from studyapp.ai.questions import allowed_typos, normalise_answer
from studyapp.ai.schemas import FALSE, TRUE, QuestionType
from studyapp.quizzes.validation import FALSE_WORDS, TRUE_WORDS

LONG_ANSWER_WORDS = 4
LONG_ANSWER_MATCH = 85  # rapidfuzz token_set_ratio for a long answer to count


@dataclass(frozen=True)
class Grade:
    correct: bool
    score: float  # 0..1
    note: str = ""  # what the student should know about how it was graded


def grade(*, type: str, response: str, answer: str, options: list[str] = (), accepted: Iterable[str] = (),
          rivals: Iterable[str] = ()) -> Grade:
    """Grade `response` to a question of `type` whose correct answer is `answer`.

    `rivals` are other concept names of the document: a typed answer that is one of them (or
    nearer to one than to the answer) is wrong, however close it is to the answer.
    """
    if not response.strip():
        return Grade(False, 0.0, "No answer given.")
    if type == QuestionType.MULTIPLE_CHOICE:
        return _grade_choice(response, answer, options)
    if type == QuestionType.TRUE_FALSE:
        return _grade_true_false(response, answer)
    return _grade_typed(response, [answer, *accepted], rivals)


def _grade_choice(response: str, answer: str, options: list[str]) -> Grade:
    chosen = normalise_answer(response)
    if chosen == normalise_answer(answer):
        return Grade(True, 1.0)
    if chosen not in {normalise_answer(o) for o in options}:
        return Grade(False, 0.0, "That is not one of the options.")
    return Grade(False, 0.0)


def _grade_true_false(response: str, answer: str) -> Grade:
    said = normalise_answer(response)
    value = TRUE if said in TRUE_WORDS else FALSE if said in FALSE_WORDS else None
    if value is None:
        return Grade(False, 0.0, "Answer True or False.")
    return Grade(value == answer, 1.0 if value == answer else 0.0)


def _grade_typed(response: str, answers: list[str], rivals: Iterable[str]) -> Grade:
    said = normalise_answer(response)
    written = {normalise_answer(a): a for a in reversed(answers) if normalise_answer(a)}
    targets = list(written)
    if said in targets:
        return Grade(True, 1.0)
    rival_names = {normalise_answer(r) for r in rivals} - set(targets)
    if said in rival_names:
        return Grade(False, 0.0, f"“{response.strip()}” is another concept of the document.")
    if any(len(t.split()) >= LONG_ANSWER_WORDS for t in targets):
        best = max(fuzz.token_set_ratio(said, t) for t in targets)
        if best >= LONG_ANSWER_MATCH:
            return Grade(True, 1.0, "Accepted: your wording is close to the expected answer.")
    distance, target = min((DamerauLevenshtein.distance(said, t), t) for t in targets)
    if distance > allowed_typos(target):
        return Grade(False, 0.0)
    if any(DamerauLevenshtein.distance(said, r) <= distance for r in rival_names):
        return Grade(False, 0.0, "Close, but that spelling is nearer to another concept of the document.")
    return Grade(True, 1.0, f"Accepted despite a small spelling difference: the document writes “{written[target]}”.")
