"""The `openai` provider: any OpenAI-compatible chat-completions endpoint through the official SDK.

OpenAI itself, Azure OpenAI's v1 endpoint, vLLM, Ollama, LM Studio, llama.cpp's servers: anything
that serves `POST {base_url}/chat/completions`. How the JSON answer is asked for (`response_format`)
is negotiated per endpoint (output_modes.py).

Each operation is one chat completion at temperature 0, with its output bounded by `max_tokens`,
whose answer is a JSON object checked against the operation's pydantic output model. An answer cut
off at the limit is a failed call (ProviderTruncated). Answers that do not parse are repaired
(json-repair) and, if that fails too, the request is sent once more; then the provider gives up with
ProviderBadOutput. Every error raised after the server answered carries the tokens it spent
(`error.usage`). SDK exceptions are translated into the classified errors of studyapp.ai.errors
(openai_errors.py), with messages that never contain the API key.
"""

from __future__ import annotations

import json
import logging
import typing

import json_repair
import openai
from django.conf import settings
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from studyapp.ai import prompts
from studyapp.ai.errors import ProviderBadOutput, ProviderTruncated, ProviderUnavailable
from studyapp.ai.providers import output_modes
from studyapp.ai.providers.base import ProviderCall
from studyapp.ai.providers.openai_errors import (
    NOT_A_COMPLETION_MESSAGE, OutputModeRejected, TokenParameterRejected, public_url, retry_after_seconds, translate,
)
from studyapp.ai.schemas import (
    ChunkConcepts, ChunkInput, ConceptDescription, ConceptInput, ExplainInput, ExplanationOut, QuizInput, QuizOut,
    Usage,
)

log = logging.getLogger(__name__)

Out = typing.TypeVar("Out", bound=BaseModel)

BAD_OUTPUT_MESSAGE = "the AI provider returned output that does not match the expected format"
TRUNCATED_MESSAGE = ("the AI provider's answer was cut off at the output limit of {limit} tokens, "
                     "so it was not used")
# Bounds one answer when the caller names no limit (the job policies name theirs): a server with no
# limit generates until its context is full, long after our timeout gave up on it.
DEFAULT_MAX_OUTPUT_TOKENS = 4096

__all__ = ["OpenAIProvider", "parse_output", "response_schema", "retry_after_seconds"]


class OpenAIProvider:
    """Calls an OpenAI-compatible endpoint. Safe to share between threads (one SDK client inside)."""

    name = "openai"
    languages = None  # a model writes in the document's language

    def __init__(self, model: str | None = None, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float | None = None, max_retries: int | None = None,
                 max_output_tokens: int | None = None, output_mode: str | None = None,
                 fold_system: bool | None = None, memory: output_modes.ProfileMemory | None = None):
        # Settings are read here, not at import, so tests and callers can override them.
        self.model = model or settings.OPENAI_MODEL
        self.base_url = base_url or settings.OPENAI_BASE_URL
        self.timeout = float(timeout if timeout is not None else settings.OPENAI_TIMEOUT_S)
        self.max_output_tokens = max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
        self.fold_system = settings.OPENAI_FOLD_SYSTEM if fold_system is None else fold_system
        self._api_key = api_key or settings.OPENAI_API_KEY or ""
        self._negotiation = output_modes.Negotiation(
            f"{public_url(self.base_url)}#{self.model}", forced_mode=output_mode or settings.OPENAI_OUTPUT_MODE,
            memory=memory or output_modes.PROCESS_MEMORY)
        # max_retries is 0 by default, on purpose: the job layer already retries failed provider calls
        # with exponential backoff and jitter within its retry budget, and honours 429's Retry-After
        # without spending an attempt. SDK retries inside each job attempt would multiply with those
        # (3 SDK tries x 5 job tries = 15 requests), hold a worker thread while sleeping and hide
        # rate limits from the shared limiter. One request per call; the job layer decides what next.
        max_retries = settings.OPENAI_MAX_RETRIES if max_retries is None else max_retries
        self._client = openai.OpenAI(
            base_url=self.base_url,
            # Local servers (vLLM, Ollama) need no key, but the SDK insists on one.
            api_key=self._api_key or "not-set",
            timeout=self.timeout,
            max_retries=max_retries,
        )

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self.model!r}, base_url={public_url(self.base_url)!r})"

    def close(self) -> None:
        """Closes the HTTP connection pool (optional: it is also closed when the provider is collected)."""
        self._client.close()

    # --- operations ------------------------------------------------------------------------------

    def extract_concepts(self, chunk: ChunkInput) -> ProviderCall[ChunkConcepts]:
        return self._complete("extract_concepts", prompts.EXTRACT_CONCEPTS_SYSTEM,
                              prompts.extract_concepts_user(chunk), ChunkConcepts)

    def describe_concept(self, concept: ConceptInput) -> ProviderCall[ConceptDescription]:
        return self._complete("describe_concept", prompts.DESCRIBE_CONCEPT_SYSTEM,
                              prompts.describe_concept_user(concept), ConceptDescription)

    def explain_connection(self, request: ExplainInput) -> ProviderCall[ExplanationOut]:
        return self._complete("explain_connection", prompts.EXPLAIN_CONNECTION_SYSTEM,
                              prompts.explain_connection_user(request), ExplanationOut)

    def write_questions(self, request: QuizInput) -> ProviderCall[QuizOut]:
        return self._complete("write_questions", prompts.WRITE_QUESTIONS_SYSTEM,
                              prompts.write_questions_user(request), QuizOut)

    # --- one operation: negotiate the format, request, parse, repair, retry once -------------------

    def _complete(self, operation: str, system: str, user: str, output_type: type[Out]) -> ProviderCall[Out]:
        schema = response_schema(output_type)
        profile = self._negotiation.profile()
        while True:
            try:
                return self._answer(operation, system, user, output_type, schema, profile)
            except OutputModeRejected as exc:
                profile = self._negotiation.mode_rejected(profile, str(exc))
            except TokenParameterRejected as exc:
                profile = self._negotiation.token_parameter_rejected(profile, str(exc))

    def _answer(self, operation: str, system: str, user: str, output_type: type[Out], schema: dict,
                profile: output_modes.EndpointProfile) -> ProviderCall[Out]:
        system = system + output_modes.schema_instructions(profile.output_mode, schema)
        messages = output_modes.chat_messages(system, user, fold_system=self.fold_system)
        options = {profile.token_parameter: self.max_output_tokens}
        response_format = output_modes.response_format(profile.output_mode, operation, schema)
        if response_format is not None:
            options["response_format"] = response_format
        usage = Usage()
        for attempt in (1, 2):
            if attempt == 2:
                messages = [*messages, {"role": "user", "content": prompts.RETRY_REMINDER}]
            completion = self._request(operation, messages, options)
            usage = usage + _usage(completion)
            content, finish_reason = _content(completion)
            if finish_reason == "length":
                # Repairing a cut-off answer would turn half a list into a confident "that is all".
                log.warning("openai %s (model %s): the answer was cut off at %d tokens", operation, self.model,
                            self.max_output_tokens)
                raise _spent(ProviderTruncated(TRUNCATED_MESSAGE.format(limit=self.max_output_tokens)), usage)
            output = parse_output(content, output_type)
            if output is not None:
                return ProviderCall(output=output, usage=usage)
            log.warning("openai %s (model %s, mode %s): answer %d of 2 does not match the schema "
                        "(finish_reason=%s, %d chars)", operation, self.model, profile.output_mode, attempt,
                        finish_reason, len(content or ""))
        raise _spent(ProviderBadOutput(BAD_OUTPUT_MESSAGE), usage)

    def _request(self, operation: str, messages: list[dict], options: dict) -> ChatCompletion:
        try:
            completion = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=0, **options)
        except openai.APIError as exc:
            error = translate(exc, base_url=self.base_url, model=self.model, timeout=self.timeout,
                              api_key=self._api_key)
            log.warning("openai %s (model %s): %s: %s (request id %s)", operation, self.model, type(error).__name__,
                        error.operator_detail or error, getattr(exc, "request_id", None) or "-")
            # `from None`: the SDK exception carries the request (Authorization header included) and the
            # provider's raw error text; neither belongs in tracebacks stored with a failed job.
            raise error from None
        except ValueError:  # a 2xx body that is not JSON (the SDK lets json's error through)
            completion = None
        if not isinstance(completion, ChatCompletion):
            # A 2xx that is not a chat completion: an HTML page from a proxy, an empty body, a base URL
            # that points at something else. Possibly passing; the job layer retries, then fails.
            log.warning("openai %s (model %s): the answer is not a chat completion", operation, self.model)
            raise ProviderUnavailable(NOT_A_COMPLETION_MESSAGE.format(url=public_url(self.base_url)))
        return completion


def _spent(error: Exception, usage: Usage) -> Exception:
    error.usage = usage  # the tokens were spent all the same; the job layer records them
    return error


# --- helpers (module level: pure, tested directly) ------------------------------------------------

def response_schema(output_type: type[BaseModel]) -> dict:
    """The output model's JSON schema, with every property listed as required.

    Our output models give defaults to most fields, so pydantic's schema marks them optional and a
    model would often leave out pages, quotes or importance. Listing them as required makes it fill
    them in; the answer is still validated (and defaults applied) by pydantic, so nothing breaks if
    a server ignores the schema. `strict` stays False: OpenAI's strict mode rejects schemas with
    defaults and bounds, and many compatible servers do not implement it.
    """
    schema = output_type.model_json_schema()

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict):
                node["required"] = list(node["properties"])
                node.setdefault("additionalProperties", False)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def parse_output(content: str | None, output_type: type[Out]) -> Out | None:
    """The answer as `output_type`, or None if it cannot be made to fit.

    1. strict JSON validated by pydantic;
    2. json-repair (trailing commas, single quotes, missing braces, code fences, prose around it);
    3. salvage: list items that fail validation (e.g. a relation of an unknown type) are dropped
       rather than failing the whole chunk.
    An object with none of the model's fields (e.g. `{}` repaired from prose) does not count as an answer.
    """
    if not content or not content.strip():
        return None
    try:
        return _accept(output_type.model_validate_json(content))
    except ValidationError:
        pass
    try:
        data = json_repair.repair_json(content, return_objects=True)
    except Exception:  # json-repair gives up on some inputs by raising
        return None
    if not isinstance(data, dict):
        return None
    try:
        return _accept(output_type.model_validate(_jsonable(data)))
    except ValidationError:
        pass
    salvaged = _drop_invalid_items(data, output_type)
    if salvaged is None:
        return None
    try:
        return _accept(output_type.model_validate(salvaged))
    except ValidationError:
        return None


def _accept(output: Out) -> Out | None:
    return output if output.model_fields_set else None


def _jsonable(data: dict) -> dict:
    # Validate what JSON would have given (json-repair returns plain Python values already).
    return json.loads(json.dumps(data, default=str))


def _drop_invalid_items(data: dict, output_type: type[BaseModel]) -> dict | None:
    """`data` with the invalid items of its list-of-model fields removed, or None if nothing changed."""
    cleaned = dict(data)
    dropped = 0
    for name, field in output_type.model_fields.items():
        items = cleaned.get(name)
        item_type = _list_item_model(field.annotation)
        if item_type is None or not isinstance(items, list):
            continue
        kept = []
        for item in items:
            try:
                item_type.model_validate(item)
            except ValidationError:
                dropped += 1
            else:
                kept.append(item)
        cleaned[name] = kept
    if not dropped:
        return None
    log.info("openai: dropped %d invalid item(s) from a %s answer", dropped, output_type.__name__)
    return cleaned


def _list_item_model(annotation: object) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item
    return None


def _content(completion) -> tuple[str | None, str | None]:
    choices = getattr(completion, "choices", None) or []
    if not choices:
        return None, None
    choice = choices[0]
    message = getattr(choice, "message", None)
    content = getattr(message, "content", None)
    return (content if isinstance(content, str) else None), getattr(choice, "finish_reason", None)


def _usage(completion) -> Usage:
    usage = getattr(completion, "usage", None)
    if usage is None:
        return Usage()
    return Usage(prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                 completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0))
