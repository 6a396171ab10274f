"""What an OpenAI-compatible server's error means for us: the classified domain error, with the
server's own reason where it helps and never the API key.

Servers disagree on status codes. OpenAI answers a malformed request with 400; llama.cpp's Python
server answers it with 500 and a pydantic validation message; FastAPI-based servers use 422. A
request the server calls malformed will be malformed on every retry, so it is rejected at once,
whatever the status, and the server's reason goes into the message (the run's error and the log).
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from urllib.parse import urlsplit, urlunsplit

import openai

from studyapp.ai.errors import ProviderRateLimited, ProviderRejected, ProviderUnavailable

DEFAULT_RATE_LIMIT_WAIT_S = 10.0
NOT_A_COMPLETION_MESSAGE = ("the AI provider at {url} sent a response that is not a chat completion; "
                            "check OPENAI_BASE_URL")
_MAX_PROVIDER_MESSAGE = 300
STUDENT_MISCONFIGURED = ("The AI service this site uses refused its settings, so this step could not run. "
                         "The site's operators can see why; please try again later.")
# Things that look like API keys ("sk-...", "sk-proj-..."), masked in any provider text we show.
_KEY_PATTERN = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-*]{6,}")
# How servers word "your request is malformed" when they send it with a 5xx (pydantic, FastAPI,
# vLLM, llama.cpp). A real outage ("server had an error", "overloaded") says none of these.
_MALFORMED = re.compile(
    r"validation error|input should be|field required|extra inputs are not permitted|unrecognized request"
    r"|unknown (?:field|parameter|argument)|unexpected (?:field|keyword|argument)|is not supported"
    r"|unsupported (?:value|parameter|response|format)|not a valid|invalid (?:value|type|request|parameter)"
    r"|unprocessable", re.IGNORECASE)
# A rejection that is about the structured-output format we asked for (output_modes steps down).
_ABOUT_FORMAT = re.compile(r"response_format|json_schema|json_object|\bschema\b|'text'", re.IGNORECASE)
# A rejection of max_tokens by servers that want the newer name (OpenAI's reasoning models).
_WANTS_COMPLETION_TOKENS = re.compile(r"max_completion_tokens", re.IGNORECASE)


class OutputModeRejected(ProviderRejected):
    """The server refused the structured-output format of the request (the provider tries the next)."""


class TokenParameterRejected(ProviderRejected):
    """The server wants `max_completion_tokens` instead of `max_tokens`."""


def translate(exc: openai.APIError, *, base_url: str, model: str, timeout: float, api_key: str) -> Exception:
    """The classified domain error for an SDK exception. Messages never include the API key."""
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: it is a subclass
        return ProviderUnavailable(f"the AI provider timed out after {timeout:g} s")
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnavailable(f"cannot reach the AI provider at {public_url(base_url)}")
    if not isinstance(exc, openai.APIStatusError):
        # e.g. APIResponseValidationError: the endpoint answered 2xx with something that is not a
        # chat completion (a proxy's HTML page...). Worth another try later.
        return ProviderUnavailable(NOT_A_COMPLETION_MESSAGE.format(url=public_url(base_url)))
    return _status_error(exc, model=model, api_key=api_key)


def _status_error(exc: openai.APIStatusError, *, model: str, api_key: str) -> Exception:
    code = exc.status_code
    retry_after = retry_after_seconds(exc.response.headers)
    detail = provider_message(exc, api_key)
    if code == 429:
        if exc.code == "insufficient_quota" or (exc.type or "") == "insufficient_quota":
            # OpenAI answers 429 when the account has no credit left: waiting will not help.
            return _misconfigured("the AI provider account has run out of quota (HTTP 429); "
                                  "check the plan and billing of the API key")
        wait = retry_after if retry_after is not None else DEFAULT_RATE_LIMIT_WAIT_S
        return ProviderRateLimited(f"the AI provider is rate limiting requests (HTTP 429); "
                                   f"trying again in {wait:.0f} s", retry_after=wait)
    if code in (400, 422) or (code == 500 and _MALFORMED.search(detail)):
        return _malformed(code, detail)
    if code >= 500 or code in (408, 409):  # the codes the SDK itself would retry
        return ProviderUnavailable(with_detail(f"the AI provider failed (HTTP {code})", detail),
                                   retry_after=retry_after)
    if code == 401:
        return _misconfigured("the AI provider rejected the API key (HTTP 401); check OPENAI_API_KEY")
    if code == 403:
        return _misconfigured(with_detail("the AI provider refused access (HTTP 403); the API key may lack "
                                          "permission for this model or region", detail))
    if code == 404:
        return _misconfigured(f"the AI provider does not know the model '{model}' (HTTP 404); check OPENAI_MODEL "
                              f"and OPENAI_BASE_URL")
    return ProviderRejected(with_detail(f"the AI provider rejected the request (HTTP {code})", detail))


def _misconfigured(operator_detail: str) -> ProviderRejected:
    """The site's AI configuration is wrong: the student is told so in plain words, and the detail
    (which setting to check) goes to the operators: the run's operator note, the log, the admin."""
    return ProviderRejected(STUDENT_MISCONFIGURED, operator_detail=operator_detail)


def _malformed(code: int, detail: str) -> ProviderRejected:
    message = with_detail(f"the AI provider rejected the request (HTTP {code})", detail)
    if _WANTS_COMPLETION_TOKENS.search(detail):
        return TokenParameterRejected(message)
    if _ABOUT_FORMAT.search(detail):
        return OutputModeRejected(message)
    return ProviderRejected(message)


def provider_message(exc: openai.APIStatusError, api_key: str = "") -> str:
    """The server's own reason, on one line, shortened, with anything like a key masked."""
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail") or body.get("error") or ""
    elif isinstance(body, str):
        message = body
    else:
        message = ""
    if not isinstance(message, str):
        message = json.dumps(message, default=str)
    if api_key:
        message = message.replace(api_key, "***")
    message = _KEY_PATTERN.sub("***", " ".join(message.split()))
    if len(message) > _MAX_PROVIDER_MESSAGE:
        message = message[:_MAX_PROVIDER_MESSAGE - 3].rstrip() + "..."
    return message


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


def with_detail(message: str, detail: str) -> str:
    return f"{message}: {detail}" if detail else message


def public_url(url: str) -> str:
    """The URL without user info or query (either could carry a secret)."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
