"""The `openai` provider: any OpenAI-compatible chat-completions endpoint through the official SDK.

OpenAI itself, Azure OpenAI's v1 endpoint, vLLM, Ollama, LM Studio...: anything that serves
`POST {base_url}/chat/completions` with structured outputs (`response_format` of type `json_schema`).

Each operation is one chat completion at temperature 0 whose answer is a JSON object checked against
the operation's pydantic output model. Answers that do not parse are repaired (json-repair) and, if
that fails too, the request is sent once more; then the provider gives up with ProviderBadOutput.
SDK exceptions are translated into the classified errors of studyapp.ai.errors, with messages a
student can read and that never contain the API key.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
import typing
from urllib.parse import urlsplit, urlunsplit

import json_repair
import openai
from django.conf import settings
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from studyapp.ai import prompts
from studyapp.ai.errors import ProviderBadOutput, ProviderRateLimited, ProviderRejected, ProviderUnavailable
from studyapp.ai.providers.base import ProviderCall
from studyapp.ai.schemas import (
    ChunkConcepts, ChunkInput, ConceptDescription, ConceptInput, ExplainInput, ExplanationOut, QuizInput, QuizOut,
    Usage,
)

log = logging.getLogger(__name__)

Out = typing.TypeVar("Out", bound=BaseModel)

BAD_OUTPUT_MESSAGE = "the AI provider returned output that does not match the expected format"
NOT_A_COMPLETION_MESSAGE = ("the AI provider at {url} sent a response that is not a chat completion; "
                            "check OPENAI_BASE_URL")
DEFAULT_RATE_LIMIT_WAIT_S = 10.0
_MAX_PROVIDER_MESSAGE = 300
# Things that look like API keys ("sk-...", "sk-proj-..."), masked in any provider text we show.
_KEY_PATTERN = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*]{6,}")


class OpenAIProvider:
    """Calls an OpenAI-compatible endpoint. Safe to share between threads (one SDK client inside)."""

    name = "openai"

    def __init__(self, model: str | None = None, *, base_url: str | None = None, api_key: str | None = None,
                 timeout: float | None = None, max_retries: int | None = None):
        # Settings are read here, not at import, so tests and callers can override them.
        self.model = model or settings.OPENAI_MODEL
        self.base_url = base_url or settings.OPENAI_BASE_URL
        self.timeout = float(timeout if timeout is not None else settings.OPENAI_TIMEOUT_S)
        self._api_key = api_key or settings.OPENAI_API_KEY or ""
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
        return f"OpenAIProvider(model={self.model!r}, base_url={_public_url(self.base_url)!r})"

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

    # --- one operation: request, parse, repair, retry once --------------------------------------

    def _complete(self, operation: str, system: str, user: str, output_type: type[Out]) -> ProviderCall[Out]:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": operation, "schema": response_schema(output_type), "strict": False},
        }
        usage = Usage()
        for attempt in (1, 2):
            if attempt == 2:
                messages = [*messages, {"role": "user", "content": prompts.RETRY_REMINDER}]
            completion = self._request(operation, messages, response_format)
            usage = usage + _usage(completion)
            content, finish_reason = _content(completion)
            output = parse_output(content, output_type)
            if output is not None:
                return ProviderCall(output=output, usage=usage)
            log.warning("openai %s (model %s): answer %d of 2 does not match the schema (finish_reason=%s, "
                        "%d chars)", operation, self.model, attempt, finish_reason, len(content or ""))
        error = ProviderBadOutput(BAD_OUTPUT_MESSAGE)
        error.usage = usage  # the tokens were spent all the same; callers may record them
        raise error

    def _request(self, operation: str, messages: list[dict], response_format: dict) -> ChatCompletion:
        try:
            completion = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=0, response_format=response_format,
            )
        except openai.APIError as exc:
            error = self._translate(exc)
            log.warning("openai %s (model %s): %s: %s (request id %s)", operation, self.model,
                        type(error).__name__, error, getattr(exc, "request_id", None) or "-")
            # `from None`: the SDK exception carries the request (Authorization header included) and the
            # provider's raw error text; neither belongs in tracebacks stored with a failed job.
            raise error from None
        except ValueError:  # a 2xx body that is not JSON (the SDK lets json's error through)
            completion = None
        if not isinstance(completion, ChatCompletion):
            # A 2xx that is not a chat completion: an HTML page from a proxy, an empty body, a base URL
            # that points at something else. Possibly passing; the job layer retries, then fails.
            log.warning("openai %s (model %s): the answer is not a chat completion", operation, self.model)
            raise ProviderUnavailable(NOT_A_COMPLETION_MESSAGE.format(url=_public_url(self.base_url)))
        return completion

    # --- errors ----------------------------------------------------------------------------------

    def _translate(self, exc: openai.APIError) -> Exception:
        """The classified domain error for an SDK exception. Messages never include the API key."""
        if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is a subclass
            return ProviderUnavailable(f"the AI provider timed out after {self.timeout:g} s")
        if isinstance(exc, openai.APIConnectionError):
            return ProviderUnavailable(f"cannot reach the AI provider at {_public_url(self.base_url)}")
        if not isinstance(exc, openai.APIStatusError):
            # e.g. APIResponseValidationError: the endpoint answered 2xx with something that is not a
            # chat completion (a proxy's HTML page...). Worth another try later.
            return ProviderUnavailable(NOT_A_COMPLETION_MESSAGE.format(url=_public_url(self.base_url)))

        code = exc.status_code
        retry_after = retry_after_seconds(exc.response.headers)
        detail = self._provider_message(exc)
        if code == 429:
            if exc.code == "insufficient_quota" or (exc.type or "") == "insufficient_quota":
                # OpenAI answers 429 when the account has no credit left: waiting will not help.
                return ProviderRejected("the AI provider account has run out of quota (HTTP 429); "
                                        "check the plan and billing of the API key")
            wait = retry_after if retry_after is not None else DEFAULT_RATE_LIMIT_WAIT_S
            return ProviderRateLimited(f"the AI provider is rate limiting requests (HTTP 429); "
                                       f"trying again in {wait:.0f} s", retry_after=wait)
        if code >= 500 or code in (408, 409):  # the codes the SDK itself would retry
            return ProviderUnavailable(f"the AI provider failed (HTTP {code})", retry_after=retry_after)
        if code == 401:
            return ProviderRejected("the AI provider rejected the API key (HTTP 401); check OPENAI_API_KEY")
        if code == 403:
            return ProviderRejected(_with_detail("the AI provider refused access (HTTP 403); the API key may "
                                                 "lack permission for this model or region", detail))
        if code == 404:
            return ProviderRejected(f"the AI provider does not know the model '{self.model}' (HTTP 404); "
                                    f"check OPENAI_MODEL and OPENAI_BASE_URL")
        if code == 400:
            return ProviderRejected(_with_detail("the AI provider rejected the request (HTTP 400)", detail))
        return ProviderRejected(_with_detail(f"the AI provider rejected the request (HTTP {code})", detail))

    def _provider_message(self, exc: openai.APIStatusError) -> str:
        body = exc.body
        if isinstance(body, dict):
            message = body.get("message") or body.get("detail") or body.get("error") or ""
        elif isinstance(body, str):
            message = body
        else:
            message = ""
        if not isinstance(message, str):
            message = json.dumps(message, default=str)
        if self._api_key:
            message = message.replace(self._api_key, "***")
        message = _KEY_PATTERN.sub("***", " ".join(message.split()))
        if len(message) > _MAX_PROVIDER_MESSAGE:
            message = message[:_MAX_PROVIDER_MESSAGE - 3].rstrip() + "..."
        return message


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


def retry_after_seconds(headers, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date); None if absent."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(float(value) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _with_detail(message: str, detail: str) -> str:
    return f"{message}: {detail}" if detail else message


def _public_url(url: str) -> str:
    """The URL without user info or query (either could carry a secret)."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
