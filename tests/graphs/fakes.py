"""A scriptable provider for job-layer tests: deterministic answers, counted calls, chosen failures."""

from __future__ import annotations

import re
import threading

from studyapp.ai.providers.base import ProviderCall
from studyapp.ai.schemas import (
    ChunkConcepts, ChunkInput, ConceptDescription, ConceptInput, ConceptOut, ExplainInput, ExplanationOut,
    Citation, QuizInput, QuizOut, RelationOut, Usage,
)
from studyapp.ai.text import sentences

WORDS = re.compile(r"\b[A-Za-z][a-z]{5,}\b")


class CountingProvider:
    """Concepts are a chunk's long words; relations join two of them in one sentence (verbatim quote)."""

    name = "fake"
    languages = None

    def __init__(self, model: str = "fake-1", fail_on: dict[int, Exception] | None = None):
        self.model = model
        self.calls: list[str] = []
        self.fail_on = dict(fail_on or {})  # call number (1-based) -> exception to raise
        self._lock = threading.Lock()

    def _count(self, operation: str) -> None:
        with self._lock:
            self.calls.append(operation)
            failure = self.fail_on.pop(len(self.calls), None)
        if failure:
            raise failure

    def extract_concepts(self, chunk: ChunkInput) -> ProviderCall[ChunkConcepts]:
        self._count("extract_concepts")
        concepts, relations = {}, []
        for segment in chunk.segments:
            for sentence in sentences(segment.text):
                words = [w.lower() for w in WORDS.findall(sentence.text)][:3]
                for word in words:
                    concepts.setdefault(word, ConceptOut(name=word, importance=0.5, pages=[segment.page]))
                if len(set(words)) >= 2:
                    relations.append(RelationOut(source=words[0], target=words[1], page=segment.page,
                                                 quote=sentence.text))
        top = list(concepts.values())[: chunk.max_concepts]
        return ProviderCall(ChunkConcepts(concepts=top, relations=relations[:20]), Usage(prompt_tokens=100, completion_tokens=20))

    def describe_concept(self, concept: ConceptInput) -> ProviderCall[ConceptDescription]:
        self._count("describe_concept")
        text = concept.evidence[0].quote if concept.evidence else f"{concept.name}."
        return ProviderCall(ConceptDescription(description=text), Usage(prompt_tokens=10, completion_tokens=5))

    def explain_connection(self, request: ExplainInput) -> ProviderCall[ExplanationOut]:
        self._count("explain_connection")
        cites = [Citation(page=p.page, quote=p.quote) for p in request.passages] + [Citation(page="999", quote="bogus")]
        text = f"{request.source} relates to {request.target} (p. {cites[0].page})." if cites else "No link."
        return ProviderCall(ExplanationOut(text=text, citations=cites), Usage(prompt_tokens=30, completion_tokens=10))

    def write_questions(self, request: QuizInput) -> ProviderCall[QuizOut]:
        """The offline writer's questions, with made-up token counts (the quiz after each graph)."""
        from studyapp.ai.questions import write_questions

        self._count("write_questions")
        return ProviderCall(write_questions(request), Usage(prompt_tokens=40, completion_tokens=20))
