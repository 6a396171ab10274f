"""The one interface every AI provider implements (`local`, `openai`).

Each operation takes a typed input and returns a `ProviderCall` with the typed output and the
token usage. Providers raise the errors of studyapp.ai.errors. They are stateless apart from
configuration, and safe to call from several threads at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Generic, Protocol, TypeVar

from pydantic import BaseModel

from studyapp.ai.schemas import (
    ChunkConcepts, ChunkInput, ConceptDescription, ConceptInput, ExplainInput, ExplanationOut, QuizInput, QuizOut,
    Usage,
)

Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class ProviderCall(Generic[Out]):
    output: Out
    usage: Usage = field(default_factory=Usage)
    cached: bool = False


# Called before each provider request with the request's estimated tokens; raises
# studyapp.ai.errors.ProviderRateLimited when the shared limit has no room (the job layer
# implements it on Redis; the domain only sees this callable).
Limiter = Callable[[int], None]


def no_limit(estimated_tokens: int) -> None:
    """The limiter for callers outside jobs (tests, the concepts command)."""


class Provider(Protocol):
    name: str
    model: str
    # The document languages it writes study material in (ISO 639-1); None: any language.
    languages: frozenset[str] | None

    def extract_concepts(self, chunk: ChunkInput) -> ProviderCall[ChunkConcepts]: ...

    def describe_concept(self, concept: ConceptInput) -> ProviderCall[ConceptDescription]: ...

    def explain_connection(self, request: ExplainInput) -> ProviderCall[ExplanationOut]: ...

    def write_questions(self, request: QuizInput) -> ProviderCall[QuizOut]: ...
