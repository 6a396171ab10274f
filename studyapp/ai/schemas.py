"""Typed inputs and outputs of every AI operation, shared by all providers.

A provider takes one of the *Input models and returns the matching output model. Inputs are
hashed (with provider, model and operation) for the response cache, so they hold only what the
answer depends on.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


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


class Citation(Lenient):
    page: str
    quote: str = ""


class ExplanationOut(Lenient):
    text: str = Field(min_length=1)
    citations: list[Citation] = []


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     completion_tokens=self.completion_tokens + other.completion_tokens)
