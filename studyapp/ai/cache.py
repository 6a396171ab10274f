"""Every provider call goes through here: cache lookup, shared rate limit, call, store.

A re-run over unchanged input is answered from the cache with zero provider calls and zero tokens.
`spent` adds up the tokens of every call this wrapper made, answered or failed, so a run that fails
still records what it cost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from typing import Callable, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from pydantic import BaseModel

from studyapp.ai.errors import ProviderUnavailable
from studyapp.ai.models import ProviderResponse
from studyapp.ai.providers.base import Limiter, Provider, ProviderCall, no_limit
from studyapp.ai.schemas import (
    ChunkConcepts, ChunkInput, ConceptDescription, ConceptInput, ExplainInput, ExplanationOut, QuizInput, QuizOut,
    Usage,
)
from studyapp.ai.text import estimate_tokens

Out = TypeVar("Out", bound=BaseModel)
log = logging.getLogger(__name__)


def cache_key(provider: str, model: str, operation: str, request: BaseModel) -> str:
    body = json.dumps({"provider": provider, "model": model, "operation": operation,
                       "input": request.model_dump(mode="json")}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


class CachedProvider:
    """Wraps a provider with the response cache and the shared rate limiter."""

    def __init__(self, inner: Provider, *, limiter: Limiter = no_limit):
        self.inner = inner
        self.limiter = limiter
        self.name = inner.name
        self.model = inner.model
        self.languages = inner.languages
        self._spent = Usage()
        self._lock = threading.Lock()  # calls finish on pool threads

    @property
    def spent(self) -> Usage:
        """Tokens of every provider call so far, including failed ones (cache hits cost nothing)."""
        with self._lock:
            return self._spent

    def _add(self, usage: Usage | None) -> None:
        if usage is not None:
            with self._lock:
                self._spent = self._spent + usage

    def extract_concepts(self, chunk: ChunkInput) -> ProviderCall[ChunkConcepts]:
        return self._call("extract_concepts", chunk, ChunkConcepts, self.inner.extract_concepts)

    def describe_concept(self, concept: ConceptInput) -> ProviderCall[ConceptDescription]:
        return self._call("describe_concept", concept, ConceptDescription, self.inner.describe_concept)

    def explain_connection(self, request: ExplainInput) -> ProviderCall[ExplanationOut]:
        return self._call("explain_connection", request, ExplanationOut, self.inner.explain_connection)

    def write_questions(self, request: QuizInput) -> ProviderCall[QuizOut]:
        return self._call("write_questions", request, QuizOut, self.inner.write_questions)

    def _call(self, operation: str, request: BaseModel, output_type: type[Out],
              call: Callable[[BaseModel], ProviderCall[Out]]) -> ProviderCall[Out]:
        key = cache_key(self.name, self.model, operation, request)
        hit = ProviderResponse.objects.filter(key=key).first()
        if hit is not None:
            return ProviderCall(output_type.model_validate(hit.output), Usage(), cached=True)
        result = self._call_with_retries(request, call)
        self._add(result.usage)
        _store(key, self.name, self.model, operation, result)
        return result


    def _call_with_retries(self, request: BaseModel,
                           call: Callable[[BaseModel], ProviderCall[Out]]) -> ProviderCall[Out]:
        """One provider call, tried again up to AI_CALL_RETRIES times when the provider blinks (a
        timeout, a dropped connection, a 5xx), with exponential backoff and jitter. Each try is one
        request (the SDK itself does not retry), so an attempt of the job is spent only when the
        provider stays down. Rate limits and rejections go straight to the job layer."""
        retries = settings.AI_CALL_RETRIES
        attempt = 0
        while True:
            self.limiter(estimate_tokens(request.model_dump_json()))
            try:
                return call(request)
            except Exception as exc:
                self._add(getattr(exc, "usage", None))  # a failed call may have spent tokens all the same
                if not isinstance(exc, ProviderUnavailable) or attempt >= retries:
                    raise
                attempt += 1
                delay = settings.AI_CALL_RETRY_BASE_S * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
                log.info("provider call failed (%s); trying again in %.1f s (%d of %d)", exc, delay, attempt, retries)
                time.sleep(delay)


def _store(key: str, provider: str, model: str, operation: str, result: ProviderCall) -> None:
    try:
        with transaction.atomic():
            ProviderResponse.objects.create(
                key=key, provider=provider, model=model, operation=operation,
                output=result.output.model_dump(mode="json"),
                prompt_tokens=result.usage.prompt_tokens, completion_tokens=result.usage.completion_tokens,
            )
    except IntegrityError:
        pass  # another worker cached the same answer first
