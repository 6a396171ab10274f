"""How a request asks for its JSON answer, negotiated per endpoint and remembered.

OpenAI-compatible servers take different subsets of `response_format`:
- `json_schema` (OpenAI, Azure, vLLM, recent Ollama and LM Studio): the server enforces our schema;
- `json_object` with a `schema` beside it (llama.cpp's servers): a grammar built from the schema;
- bare `json_object`: any JSON object;
- none at all: plain instructions, and the JSON repair of the provider.

A request starts with the endpoint's remembered mode, or the first of MODES. When the server rejects
the format as malformed, the provider steps down to the next mode and remembers it, so each
endpoint (base URL and model) pays for the negotiation once. OPENAI_OUTPUT_MODE
forces one mode and turns the negotiation off. In every mode but `json_schema` the schema is also
written into the instructions, since the server does not hold the model to it.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from typing import Protocol

from studyapp.ai.errors import ProviderRejected

log = logging.getLogger(__name__)

MODES = ("json_schema", "json_object_schema", "json_object", "plain")
AUTO = "auto"
TOKEN_PARAMETERS = ("max_tokens", "max_completion_tokens")


@dataclass(frozen=True)
class EndpointProfile:
    """What an endpoint accepts, as far as we have learnt."""

    output_mode: str = MODES[0]
    token_parameter: str = TOKEN_PARAMETERS[0]


class ProfileMemory(Protocol):
    def recall(self, endpoint: str) -> EndpointProfile | None: ...

    def remember(self, endpoint: str, profile: EndpointProfile) -> None: ...


class ProcessMemory:
    """Profiles kept in this process only (callers without a database, such as `manage.py concepts`)."""

    def __init__(self) -> None:
        self._profiles: dict[str, EndpointProfile] = {}
        self._lock = threading.Lock()

    def recall(self, endpoint: str) -> EndpointProfile | None:
        with self._lock:
            return self._profiles.get(endpoint)

    def remember(self, endpoint: str, profile: EndpointProfile) -> None:
        with self._lock:
            self._profiles[endpoint] = profile

    def forget_all(self) -> None:
        with self._lock:
            self._profiles.clear()


PROCESS_MEMORY = ProcessMemory()


class Negotiation:
    """The profile one provider uses for an endpoint, and how it changes when the server objects."""

    def __init__(self, endpoint: str, *, forced_mode: str = AUTO, memory: ProfileMemory = PROCESS_MEMORY):
        if forced_mode != AUTO and forced_mode not in MODES:
            raise ValueError(f"unknown output mode {forced_mode!r}; choose one of {AUTO}, {', '.join(MODES)}")
        self.endpoint = endpoint
        self.forced_mode = forced_mode
        self.memory = memory

    def profile(self) -> EndpointProfile:
        known = self.memory.recall(self.endpoint) or EndpointProfile()
        if self.forced_mode != AUTO:
            known = replace(known, output_mode=self.forced_mode)
        return known

    def mode_rejected(self, profile: EndpointProfile, reason: str) -> EndpointProfile:
        """The profile to try next after the server refused `profile.output_mode`.

        Raises:
            ProviderRejected: the mode was forced by a setting, or no mode is left.
        """
        mode = profile.output_mode
        if self.forced_mode != AUTO:
            raise ProviderRejected(f"{reason} (OPENAI_OUTPUT_MODE={mode} is not accepted by this server; "
                                   f"set it to {AUTO})")
        following = MODES.index(mode) + 1
        if following >= len(MODES):
            raise ProviderRejected(reason)
        chosen = replace(profile, output_mode=MODES[following])
        log.info("openai endpoint %s refused output mode %s; trying %s (%s)", self.endpoint, mode,
                 chosen.output_mode, reason)
        self.memory.remember(self.endpoint, chosen)
        return chosen

    def token_parameter_rejected(self, profile: EndpointProfile, reason: str) -> EndpointProfile:
        if profile.token_parameter == TOKEN_PARAMETERS[-1]:
            raise ProviderRejected(reason)
        chosen = replace(profile, token_parameter=TOKEN_PARAMETERS[-1])
        log.info("openai endpoint %s wants %s (%s)", self.endpoint, chosen.token_parameter, reason)
        self.memory.remember(self.endpoint, chosen)
        return chosen


def response_format(mode: str, name: str, schema: dict) -> dict | None:
    """The `response_format` request field for `mode` (None: leave it out)."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def schema_instructions(mode: str, schema: dict) -> str:
    """Text for the system prompt: the schema in words, where the server does not enforce it."""
    if mode == "json_schema":
        return ""
    return ("\n\nThe JSON object must follow this JSON schema (every property is required):\n"
            + json.dumps(schema, separators=(",", ":")))


def chat_messages(system: str, user: str, *, fold_system: bool) -> list[dict]:
    """The conversation. Folded: one user message, for chat templates that drop the system role."""
    if fold_system:
        return [{"role": "user", "content": f"{system}\n\n---\n\n{user}"}]
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
