"""Choosing a provider by name: `local` (offline, the default) or `openai` (any compatible endpoint)."""

from __future__ import annotations

from django.conf import settings

from studyapp.ai.cache import CachedProvider
from studyapp.ai.providers.base import Limiter, no_limit
from studyapp.ai.providers.endpoint_memory import DatabaseMemory
from studyapp.core.errors import PermanentError

PROVIDERS = ("local", "openai")


def default_model(provider: str) -> str:
    return settings.OPENAI_MODEL if provider == "openai" else "local-1"


def get_provider(name: str | None = None, model: str | None = None, *, limiter: Limiter = no_limit,
                 max_output_tokens: int | None = None) -> CachedProvider:
    """The named provider, wrapped with the response cache and the limiter.

    `max_output_tokens` bounds each answer of a remote model (the job policy's figure); what an
    endpoint accepts is learnt once and kept in the database for every worker.

    Raises:
        PermanentError: unknown provider name.
    """
    name = name or settings.AI_PROVIDER
    model = model or default_model(name)
    if name == "local":
        from studyapp.ai.providers.local import LocalProvider

        inner = LocalProvider(model=model)
    elif name == "openai":
        from studyapp.ai.providers.openai_provider import OpenAIProvider

        inner = OpenAIProvider(model=model, max_output_tokens=max_output_tokens, memory=DatabaseMemory())
    else:
        raise PermanentError(f"unknown AI provider {name!r}; choose one of {', '.join(PROVIDERS)}")
    return CachedProvider(inner, limiter=limiter)
