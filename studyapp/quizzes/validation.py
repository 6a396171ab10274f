"""Checking every written question before it is saved, whatever provider wrote it.

A question is kept only if
* its citation holds: the quote occurs on the cited page (a quote found on another page is
  re-cited to that page, as the graph does with relation quotes);
* the answer, or the fact behind it, is in that quote: the answer term is named there (with its
  inflections); a true statement is what the quote says, a false one is not in the document;
* it has exactly one correct option: the answer is one of the options; no other option is the
  answer under another name (an alias, a variant, a part of it); options are unique and not
  near-duplicates of each other;
* it does not give its answer away (the blanked term still in the sentence) and is well formed
  for its type (a blank to fill, True/False options);
* it repeats no question already accepted (the same answer from the same passage, or nearly the
  same prompt).
Small, safe repairs come first: whitespace, "true"/"falsch" to True/False, an answer given as an
option letter ("B") to that option.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from studyapp.ai import relations as rel
from studyapp.ai.questions import BLANK, is_variant, normalise_answer
from studyapp.ai.schemas import FALSE, TRUE, QuestionOut, QuestionType
from studyapp.ai.text import stopwords
from studyapp.graphs.evidence import PageIndex

MIN_OPTIONS, MAX_OPTIONS = 3, 6
MAX_TERM_WORDS = 8  # a blank or short answer is a term, not a paragraph
SUPPORT_TRUE, SUPPORT_FALSE = 0.6, 0.5  # share of a statement's content words found in its quote
SAME_PROMPT = 90  # rapidfuzz ratio from which two prompts ask the same thing

TRUE_WORDS = frozenset("true t yes y wahr richtig ja w r 1".split())
FALSE_WORDS = frozenset("false f no n falsch nein 0".split())

# Why a question was dropped (kept short: they are counted in the quiz's stats).
NOT_REQUESTED = "type not asked for"
NO_CITATION = "no page or quote"
QUOTE_NOT_ON_PAGE = "quote not found in the document"
ANSWER_NOT_IN_QUOTE = "answer not in the cited passage"
NOT_SUPPORTED = "statement not supported by the cited passage"
FALSE_BUT_TRUE = "false statement stands in the document"
NO_BLANK = "no blank to fill"
MANY_BLANKS = "more than one blank"
GIVES_AWAY = "prompt gives the answer away"
NOT_AN_OPTION = "answer is not one of the options"
OPTION_COUNT = "too few or too many options"
DUPLICATE_OPTIONS = "options repeat or nearly repeat each other"
TWO_CORRECT = "another option is also correct"
TOO_LONG = "answer too long for its type"
REPEATS = "repeats another question"


@dataclass(frozen=True)
class ConceptNames:
    """A graph concept's names, to tell an answer's other names from real alternatives."""

    name: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass
class Validator:
    """Validates questions for one quiz; remembers the accepted ones to refuse repeats."""

    index: PageIndex
    language: str
    types: set[QuestionType]
    concepts: list[ConceptNames] = field(default_factory=list)
    accepted: list[QuestionOut] = field(default_factory=list)

    def check(self, question: QuestionOut) -> tuple[QuestionOut | None, str | None]:
        """(the repaired question, None) if it is valid, else (None, the reason). A valid question
        is remembered, so a later one that repeats it is refused."""
        question = repaired(question)
        reason = self._problem(question)
        if reason is not None:
            return None, reason
        question = self._recited(question)
        if question is None:
            return None, QUOTE_NOT_ON_PAGE
        reason = self._content_problem(question) or self._repeat_problem(question)
        if reason is not None:
            return None, reason
        self.accepted.append(question)
        return question, None

    # --- form ---------------------------------------------------------------------------------

    def _problem(self, q: QuestionOut) -> str | None:
        if q.type not in self.types:
            return NOT_REQUESTED
        if not q.page or not q.quote:
            return NO_CITATION
        if q.type == QuestionType.MULTIPLE_CHOICE:
            return self._options_problem(q)
        if q.type == QuestionType.TRUE_FALSE:
            return None if q.answer in (TRUE, FALSE) else NOT_AN_OPTION
        if len(q.answer.split()) > MAX_TERM_WORDS:
            return TOO_LONG
        if q.type == QuestionType.FILL_IN_BLANK and "___" not in q.prompt:
            return NO_BLANK
        if q.type == QuestionType.FILL_IN_BLANK and len(re.findall(r"_{3,}", q.prompt)) > 1:
            return MANY_BLANKS
        return None

    def _options_problem(self, q: QuestionOut) -> str | None:
        if not MIN_OPTIONS <= len(q.options) <= MAX_OPTIONS:
            return OPTION_COUNT
        normalised = [normalise_answer(o) for o in q.options]
        if len(set(normalised)) < len(normalised) or not all(normalised):
            return DUPLICATE_OPTIONS
        if normalised.count(normalise_answer(q.answer)) != 1:
            return NOT_AN_OPTION
        answer_names = self._names_of(q.answer)
        others = [o for o in q.options if normalise_answer(o) != normalise_answer(q.answer)]
        if any(is_variant(o, name) for o in others for name in answer_names):
            return TWO_CORRECT
        for i, a in enumerate(others):
            if any(is_variant(a, b) for b in others[i + 1:]):
                return DUPLICATE_OPTIONS
        return None

    def _names_of(self, answer: str) -> list[str]:
        """The answer and, if it names a graph concept, that concept's other names."""
        key = normalise_answer(answer)
        for concept in self.concepts:
            if key in {normalise_answer(n) for n in concept.names}:
                return list(concept.names)
        return [answer]

    # --- citation -----------------------------------------------------------------------------

    def _recited(self, q: QuestionOut) -> QuestionOut | None:
        if self.index.quote_on_page(q.quote, q.page):
            return q
        page = self.index.page_of_quote(q.quote)
        return q.model_copy(update={"page": page}) if page is not None else None

    # --- content ------------------------------------------------------------------------------

    def _content_problem(self, q: QuestionOut) -> str | None:
        if q.type == QuestionType.TRUE_FALSE:
            return self._statement_problem(q)
        answers = [q.answer, *q.accepted]
        if not any(self._in_text(q.quote, a) for a in answers):
            return ANSWER_NOT_IN_QUOTE
        if q.type != QuestionType.MULTIPLE_CHOICE or len(q.answer.split()) <= 3:
            prompt = q.prompt.replace(BLANK, " ")
            if any(self._named(prompt, a) for a in [q.answer, *q.accepted]):
                return GIVES_AWAY
        return None

    def _statement_problem(self, q: QuestionOut) -> str | None:
        support = self._support(q.prompt, q.quote)
        if q.answer == TRUE:
            return None if support >= SUPPORT_TRUE else NOT_SUPPORTED
        if support < SUPPORT_FALSE:
            return NOT_SUPPORTED
        if self.index.page_of_quote(q.prompt) is not None or normalise_answer(q.prompt) == normalise_answer(q.quote):
            return FALSE_BUT_TRUE
        return None

    def _support(self, statement: str, quote: str) -> float:
        """The share of the statement's content words that the quote contains (stem-tolerant)."""
        stop = stopwords(self.language)
        words = [w for w in normalise_answer(statement).split() if w not in stop and len(w) > 2]
        if not words:
            return 0.0
        quote_stems = {w[:5] for w in normalise_answer(quote).split()}
        return sum(w[:5] in quote_stems for w in words) / len(words)

    def _in_text(self, text: str, answer: str) -> bool:
        if self._named(text, answer):
            return True
        words = [w for w in normalise_answer(answer).split() if w not in stopwords(self.language)]
        if len(words) >= 4:  # a longer answer: most of its words must be in the passage
            stems = {w[:5] for w in normalise_answer(text).split()}
            return sum(w[:5] in stems for w in words) >= 0.75 * len(words)
        return False

    def _named(self, text: str, answer: str) -> bool:
        if rel.find_mentions(text, answer, self.language):
            return True
        needle = normalise_answer(answer)
        return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", normalise_answer(text)) is not None

    # --- repeats ------------------------------------------------------------------------------

    def _repeat_problem(self, q: QuestionOut) -> str | None:
        key = content_key(q)
        prompt = normalise_answer(q.prompt)
        for other in self.accepted:
            if content_key(other) == key or fuzz.ratio(prompt, normalise_answer(other.prompt)) >= SAME_PROMPT:
                return REPEATS
        return None


def content_key(question: QuestionOut) -> str:
    """The fact a question tests: its answer and the passage it rests on."""
    body = f"{normalise_answer(question.answer)}|{normalise_answer(question.quote)}"
    return hashlib.sha256(body.encode()).hexdigest()


_OPTION_LETTER = re.compile(r"^\(?([A-Fa-f])[).:]?$")


def repaired(question: QuestionOut) -> QuestionOut:
    """Whitespace trimmed, True/False spelled one way, an option letter turned into the option."""
    clean = {
        "prompt": " ".join(question.prompt.split()),
        "answer": " ".join(question.answer.split()),
        "options": [" ".join(o.split()) for o in question.options if o.strip()],
        "accepted": [" ".join(a.split()) for a in question.accepted if a.strip()],
        "page": question.page.strip(),
        "quote": " ".join(question.quote.split()),
        "explanation": " ".join(question.explanation.split()),
    }
    if question.type == QuestionType.TRUE_FALSE:
        clean["options"] = [TRUE, FALSE]
        answer = normalise_answer(clean["answer"])
        clean["answer"] = TRUE if answer in TRUE_WORDS else FALSE if answer in FALSE_WORDS else clean["answer"]
        clean["accepted"] = []
    elif question.type == QuestionType.MULTIPLE_CHOICE:
        letter = _OPTION_LETTER.match(clean["answer"])
        options = {normalise_answer(o) for o in clean["options"]}
        if letter and normalise_answer(clean["answer"]) not in options:
            position = ord(letter.group(1).lower()) - ord("a")
            if position < len(clean["options"]):
                clean["answer"] = clean["options"][position]
        clean["accepted"] = []
    return question.model_copy(update=clean)
