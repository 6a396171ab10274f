"""Typed inputs and outputs of every AI operation, shared by all providers.

A provider takes one of the *Input models and returns the matching output model. Inputs are
hashed (with provider, model and operation) for the response cache, so they hold only what the
answer depends on.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lenient(BaseModel):
    """Outputs parsed from a model: unknown keys are ignored rather than failing the chunk."""

    model_config = ConfigDict(extra="ignore")


class RelationType(str, Enum):
    IS_A = "is_a"
    PART_OF = "part_of"
    CAUSES = "causes"
    DEFINED_AS = "defined_as"
    EXAMPLE_OF = "example_of"
    CONTRASTS_WITH = "contrasts_with"
    RELATED_TO = "related_to"


class Segment(Strict):
    """Text from one page, with the label printed on that page."""

    page: str
    text: str


class ChunkInput(Strict):
    """One chunk of a document: consecutive page segments (a citation never leaves its text)."""

    segments: list[Segment]
    max_concepts: int = 15
    language: str | None = None


class ConceptOut(Lenient):
    name: str = Field(min_length=1, max_length=120)
    aliases: list[str] = []
    description: str = ""
    importance: float = Field(default=0.5, ge=0.0, le=1.0)
    pages: list[str] = []


class RelationOut(Lenient):
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    type: RelationType = RelationType.RELATED_TO
    description: str = ""
    page: str = ""
    quote: str = ""


class ChunkConcepts(Lenient):
    concepts: list[ConceptOut] = []
    relations: list[RelationOut] = []


class Evidence(Strict):
    page: str
    quote: str


class ConceptInput(Strict):
    """Merge/describe: one concept with its names and the passages that mention it."""

    name: str
    aliases: list[str] = []
    evidence: list[Evidence] = []
    language: str | None = None


class ConceptDescription(Lenient):
    description: str


class PathStep(Strict):
    source: str
    type: RelationType
    target: str
    page: str = ""
    quote: str = ""


class ExplainInput(Strict):
    source: str
    target: str
    path: list[PathStep] = []
    passages: list[Evidence] = []
    language: str | None = None


class Citation(Lenient):
    page: str
    quote: str = ""


class ExplanationOut(Lenient):
    text: str = Field(min_length=1)
    citations: list[Citation] = []


# --- write_questions ---------------------------------------------------------------------------


class QuestionType(str, Enum):
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    FILL_IN_BLANK = "fill_in_blank"
    SHORT_ANSWER = "short_answer"


class Difficulty(str, Enum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


# How many options a multiple-choice question has at each difficulty.
OPTIONS_PER_DIFFICULTY = {Difficulty.EASY: 3, Difficulty.MEDIUM: 4, Difficulty.HARD: 5}
TRUE, FALSE = "True", "False"


class QuizConcept(Strict):
    """A concept of the graph. `focus` ones are to be tested; the others serve as distractors."""

    name: str
    aliases: list[str] = []
    description: str = ""
    importance: float = 0.0
    pages: list[str] = []
    focus: bool = False


class QuizRelation(Strict):
    source: str
    target: str
    type: RelationType
    page: str
    quote: str


class QuizInput(Strict):
    """One request for questions: which types (one entry per question wanted, in order), about the
    focus concepts, citing only the passages (verbatim page text) given.

    `avoid` lists prompts already written or rejected and passages already asked about, so a second
    request for the same material asks for other questions (and has another cache key); `round`
    counts those requests.
    """

    types: list[QuestionType] = Field(min_length=1)
    difficulty: Difficulty = Difficulty.MEDIUM
    concepts: list[QuizConcept] = []
    relations: list[QuizRelation] = []
    passages: list[Evidence] = []
    language: str | None = None
    avoid: list[str] = []
    round: int = 1

    @property
    def options_per_question(self) -> int:
        return OPTIONS_PER_DIFFICULTY[self.difficulty]


class QuestionOut(Lenient):
    type: QuestionType
    prompt: str = Field(min_length=1)
    options: list[str] = []  # multiple choice: the choices; true/false: ["True", "False"]
    answer: str = Field(min_length=1)  # the correct option, "True"/"False", or the expected words
    accepted: list[str] = []  # other answers that are right too (aliases, inflections)
    explanation: str = ""
    page: str = ""
    quote: str = ""  # verbatim from that page: the fact the answer rests on
    concepts: list[str] = []  # names of the concepts it tests

    @field_validator("answer", "page", mode="before")
    @classmethod
    def _text(cls, value):
        return _as_text(value)

    @field_validator("options", "accepted", "concepts", mode="before")
    @classmethod
    def _texts(cls, value):
        return [_as_text(item) for item in value] if isinstance(value, list) else value


def _as_text(value):
    """Models write true/false and page numbers as JSON booleans and numbers."""
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, (int, float)):
        return str(value)
    return value


class QuizOut(Lenient):
    questions: list[QuestionOut] = []


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     completion_tokens=self.completion_tokens + other.completion_tokens)
