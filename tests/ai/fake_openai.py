"""A fake OpenAI-compatible server on loopback, for tests and benchmarks. Standard library only.

It serves `POST /v1/chat/completions` (and `/chat/completions`) with OpenAI's response shape, so the
real `openai` SDK talks to it over real HTTP. What it answers is scriptable:

    server = FakeOpenAI().start()                    # or the `fake_openai` pytest fixture
    server.script(status(429, headers={"Retry-After": "7"}), ok({"concepts": []}))
    ...                                              # the next two requests get these, in order,
    server.default = echo()                          # every later one the default (echo unless set)
    server.requests[0].body["model"]                 # every request is recorded
    server.stop()

Behaviours: `ok(content)` (a dict/list sent as JSON, a str sent as is, or a callable taking the
request body), `echo()` (a valid answer built from the request, the default), `slow(seconds, then=...)`,
`status(code, headers=..., body=...)`, `malformed(text)`, `raw(body, status=200)` (a non-OpenAI HTTP
body), `disconnect()` (close the connection without answering).

Like real servers, it takes only some output modes (`formats`: json_schema, json_object_schema,
json_object, text) and refuses the others with `rejection_status` (400 with OpenAI's wording, or 500
with a pydantic message as llama-cpp-python does); it cuts an answer off at the request's
`max_tokens` (finish_reason "length"); and with `drop_system` its model never sees system messages.
`FakeOpenAI.like_llama_cpp()` is such a server. `error_rate` makes it flaky: that share of requests
(drawn from `seed`) gets a 500 or a dropped connection.

`delay` (seconds) is added before every answer, e.g. to measure concurrency: ThreadingHTTPServer answers
many requests at once, each on its own thread; `max_in_flight` tells how many it answered at once.

The echo behaviour (tests/ai/fake_openai_answers.py) reads the request's operation (the
`response_format.json_schema.name`, or the layout of the user message) and the first user message
(layout: studyapp/ai/prompts.py) and answers deterministically; a request whose messages lack the
instructions gets prose:

- extract_concepts: concepts are the capitalised words and phrases of the "[page X]" segments
  ("The Krebs Cycle" -> "Krebs Cycle"; a sentence-opening stop word such as "The" or "This" is not a
  concept), ordered by first appearance, at most "at most N concepts"; an acronym in brackets right
  after a concept ("Deoxyribonucleic Acid (DNA)") becomes its alias; importance is the concept's
  frequency relative to the most frequent one; pages are the labels of the segments it appears in;
  the description is the first sentence that mentions it. Two concepts in the same sentence give a
  relation (is_a if the sentence says " is a "/" is an ", part_of for " part of ", causes for
  " causes "/" leads to ", else related_to) whose quote is that sentence, verbatim.
- describe_concept: "NAME is explained on page P of the material." (or "... is a concept from the
  study material." without passages).
- explain_connection: "SOURCE is connected to TARGET ... (p. P)." citing the first three passages.
- write_questions: one question per type listed in "Question types, in order: ...", each from the next
  passage that names one of the "Concepts to test" (and whose prompt is not under "Do not repeat"):
  fill_in_blank blanks the concept in the passage; short_answer asks for the missing term;
  multiple_choice offers the concept and other listed concepts not named in the passage;
  true_false states the passage as it stands (True). Page and quote are the passage's, verbatim.

Standalone (the benchmark starts it this way): `python tests/ai/fake_openai.py --port 0 --delay 1.0`
prints its base URL on the first line of stdout and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import signal
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

try:
    from tests.ai.fake_openai_answers import echo_content, first_user_message, operation, schema_name
except ImportError:  # run as a script: python tests/ai/fake_openai.py
    from fake_openai_answers import echo_content, first_user_message, operation, schema_name  # type: ignore

__all__ = ["FakeOpenAI", "RecordedRequest", "disconnect", "echo", "malformed", "ok", "raw", "slow", "status",
           "echo_content", "first_user_message", "operation", "schema_name", "FORMATS"]

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")
# Output modes, by what a request's response_format asks for (what studyapp calls them).
FORMATS = frozenset({"json_schema", "json_object_schema", "json_object", "text"})


def output_mode(body: Any) -> str:
    response_format = body.get("response_format") if isinstance(body, dict) else None
    if not isinstance(response_format, dict):
        return "text"
    kind = response_format.get("type") or "text"
    if kind == "json_object" and "schema" in response_format:
        return "json_object_schema"
    return str(kind)


# --- what the server records and answers -------------------------------------------------------

@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names; the Authorization value is replaced by "<redacted>"
    body: Any  # parsed JSON, or the raw text if it was not JSON
    has_authorization: bool = False
    received_at: float = field(default_factory=time.monotonic)

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def schema_name(self) -> str | None:
        return schema_name(self.body)

    @property
    def operation(self) -> str | None:
        return operation(self.body)

    @property
    def output_mode(self) -> str:
        return output_mode(self.body)

    @property
    def max_tokens(self) -> int | None:
        if not isinstance(self.body, dict):
            return None
        value = self.body.get("max_completion_tokens", self.body.get("max_tokens"))
        return value if isinstance(value, int) else None

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []

    @property
    def user_message(self) -> str:
        return first_user_message(self.body)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    disconnect: bool = False


Behaviour = Callable[[RecordedRequest], Reply]


def _json_reply(status_code: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status_code, headers={"Content-Type": "application/json", **(headers or {})},
                 body=json.dumps(payload).encode())


def completion(request: RecordedRequest, content: str, *, usage: dict | None = None,
               finish_reason: str = "stop") -> dict:
    """A chat.completion object in OpenAI's shape. An answer longer than the request's max_tokens is
    cut off there (about 4 characters a token), with finish_reason "length", as servers do."""
    limit = request.max_tokens
    if limit is not None and len(content) > 4 * limit:
        content, finish_reason = content[: 4 * limit], "length"
    prompt_tokens = max(1, len(json.dumps(request.messages)) // 4)
    completion_tokens = max(1, len(content) // 4)
    usage = usage if usage is not None else {
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    return {
        "id": f"chatcmpl-fake{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model or "fake-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None},
            "logprobs": None,
            "finish_reason": finish_reason,
        }],
        "usage": usage,
        "system_fingerprint": "fp_fake",
    }


_ids = itertools.count(1)


def ok(content: Any = None, *, usage: dict | None = None, finish_reason: str = "stop",
       headers: dict[str, str] | None = None) -> Behaviour:
    """A 200 chat completion. `content`: dict/list (sent as JSON), str (sent as is), a callable taking
    the request body and returning either, or None for the echo answer. `usage` replaces the computed one
    (pass {} for a response without usage counts)."""

    def behave(request: RecordedRequest) -> Reply:
        value = content(request.body) if callable(content) else content
        if value is None:
            value = echo_content(request.body)
        text = value if isinstance(value, str) else json.dumps(value)
        return _json_reply(200, completion(request, text, usage=usage, finish_reason=finish_reason), headers)

    return behave


def echo() -> Behaviour:
    """A valid answer for the operation named in the request's response_format (see the module doc)."""
    return ok(None)


def malformed(text: str, **kwargs: Any) -> Behaviour:
    """A 200 chat completion whose message content is `text`, as is (usually not valid JSON)."""
    return ok(text, **kwargs)


def slow(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Wait `seconds` before answering with `then` (echo by default)."""
    inner = then or echo()

    def behave(request: RecordedRequest) -> Reply:
        reply = inner(request)
        reply.delay += seconds
        return reply

    return behave


_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported."),
    404: ("invalid_request_error", "model_not_found", "The model `{model}` does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def status(code: int, *, headers: dict[str, str] | None = None, body: Any = None) -> Behaviour:
    """An error answer. `body`: dict (JSON), str (sent as is) or None for OpenAI's error shape."""

    def behave(request: RecordedRequest) -> Reply:
        if body is None:
            kind, err_code, message = _ERRORS.get(code, ("server_error" if code >= 500 else "invalid_request_error",
                                                          None, f"HTTP {code}"))
            payload = {"error": {"message": message.format(model=request.model), "type": kind,
                                 "param": None, "code": err_code}}
            return _json_reply(code, payload, headers)
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
            return Reply(status=code, headers={"Content-Type": "text/plain", **(headers or {})}, body=data)
        return _json_reply(code, body, headers)

    return behave


def raw(body: str | bytes, *, status_code: int = 200, content_type: str = "text/html") -> Behaviour:
    """Any HTTP body, e.g. a proxy's HTML page instead of a chat completion."""
    data = body.encode() if isinstance(body, str) else body
    return lambda request: Reply(status=status_code, headers={"Content-Type": content_type}, body=data)


def disconnect() -> Behaviour:
    """Close the connection without answering."""
    return lambda request: Reply(disconnect=True)


# --- the server ----------------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        fake = self.server.fake
        record = fake._record(self, None)
        if record.path.rstrip("/") in ("/v1/models", "/models"):
            self._send(_json_reply(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}]}))
        else:
            self._send(status(404, body={"error": {"message": f"Unknown request URL: GET {record.path}",
                                                   "type": "invalid_request_error", "code": "unknown_url"}})(record))

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(data) if data else None
        except ValueError:
            body = data.decode(errors="replace")
        record = fake._record(self, body)
        if record.path not in CHAT_PATHS:
            reply = status(404, body={"error": {"message": f"Unknown request URL: POST {record.path}",
                                                "type": "invalid_request_error", "code": "unknown_url"}})(record)
        elif not isinstance(body, dict):
            reply = status(400, body={"error": {"message": "We could not parse the JSON body of your request.",
                                                "type": "invalid_request_error", "code": None}})(record)
        else:
            reply = fake._refusal(record) or fake._blink(record) or fake._next_behaviour()(fake._as_seen(record))
        reply.delay += fake.delay
        fake._enter()
        try:
            self._send(reply)
        finally:
            fake._leave()

    def _send(self, reply: Reply) -> None:
        fake = self.server.fake
        if reply.delay > 0 and fake._stopping.wait(reply.delay):
            reply = Reply(disconnect=True)  # the server is stopping: do not hold the test up
        try:
            if reply.disconnect:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (timeout): nothing to answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    fake: "FakeOpenAI"

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return  # a client closed its connection
        super().handle_error(request, client_address)


class FakeOpenAI:
    """The fake server. Thread-safe: tests script it while the SDK's requests are being answered."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, delay: float = 0.0,
                 default: Behaviour | None = None, formats: frozenset[str] = FORMATS,
                 rejection_status: int = 400, drop_system: bool = False, error_rate: float = 0.0, seed: int = 0):
        self.host, self.port = host, port
        self.error_rate = error_rate  # this share of requests gets a 500 or a dropped connection
        self.errors_served = 0
        self._random = random.Random(seed)
        self.delay = delay
        self.formats = frozenset(formats)  # the output modes it accepts (see FORMATS)
        self.rejection_status = rejection_status  # how it refuses the others: 400, or 500 like llama.cpp
        self.drop_system = drop_system  # the model never sees system messages
        self.default: Behaviour = default or echo()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0  # POST requests being answered right now
        self.max_in_flight = 0  # the most at once since start (or reset)
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def like_llama_cpp(cls, **kwargs: Any) -> "FakeOpenAI":
        """llama-cpp-python's server: json_object (with an optional schema) but no json_schema, refused
        with HTTP 500 and a pydantic message, and a chat template that drops the system role."""
        return cls(formats=frozenset({"text", "json_object", "json_object_schema"}), rejection_status=500,
                   drop_system=True, **kwargs)

    # lifecycle
    def start(self) -> "FakeOpenAI":
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-openai-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # scripting
    def script(self, *behaviours: Behaviour) -> "FakeOpenAI":
        """Queue behaviours: each answers one chat request, in order; then `default` answers."""
        with self._lock:
            self._queue.extend(behaviours)
        return self

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.max_in_flight = self.in_flight
        self.default = echo()
        self.delay = 0.0

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in list(self.requests) if r.method == "POST" and r.path in CHAT_PATHS]

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _refusal(self, request: RecordedRequest) -> Reply | None:
        """The error this server gives a request whose output mode it does not take (None: it takes it)."""
        mode = request.output_mode
        if mode in self.formats:
            return None
        if self.rejection_status == 500:  # llama-cpp-python turns its request validation into a 500
            kind = "json_object" if mode == "json_object_schema" else mode
            message = (f"1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should be "
                       f"'text' or 'json_object' [type=literal_error, input_value='{kind}', input_type=str]")
            return status(500, body={"error": {"message": message, "type": "internal_server_error",
                                               "param": None, "code": None}})(request)
        message = (f"Invalid parameter: 'response_format' of type '{mode}' is not supported with this model."
                   if mode != "json_object_schema" else
                   "Additional properties are not allowed ('schema' was unexpected) - 'response_format'")
        return status(self.rejection_status, body={"error": {
            "message": message, "type": "invalid_request_error", "param": "response_format", "code": None}})(request)

    def _blink(self, request: RecordedRequest) -> Reply | None:
        """A 500 or a dropped connection for `error_rate` of the requests (None: answer as usual)."""
        with self._lock:
            if self._random.random() >= self.error_rate:
                return None
            self.errors_served += 1
            drop = self._random.random() < 0.3
        return disconnect()(request) if drop else status(500)(request)

    def _as_seen(self, request: RecordedRequest) -> RecordedRequest:
        """The request as the model sees it: without system messages on a server that drops them."""
        if not self.drop_system:
            return request
        messages = [m for m in request.messages if m.get("role") != "system"]
        return replace(request, body={**request.body, "messages": messages})

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> RecordedRequest:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        has_auth = "authorization" in headers
        if has_auth:
            headers["authorization"] = "<redacted>"
        record = RecordedRequest(method=handler.command, path=handler.path.split("?", 1)[0], headers=headers,
                                 body=body, has_authorization=has_auth)
        with self._lock:
            self.requests.append(record)
        return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake OpenAI-compatible server (echo answers).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before every answer")
    args = parser.parse_args(argv)

    server = FakeOpenAI(args.host, args.port, delay=args.delay).start()
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    print(server.base_url, flush=True)
    try:
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
        print(f"served {len(server.chat_requests)} chat requests", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
