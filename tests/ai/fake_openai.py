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

`delay` (seconds) is added before every answer, e.g. to measure concurrency: ThreadingHTTPServer answers
many requests at once, each on its own thread; `max_in_flight` tells how many it answered at once.

The echo behaviour reads the request's `response_format.json_schema.name` and the first user message
(layout: studyapp/ai/prompts.py) and answers deterministically:

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
import re
import signal
import socket
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

CHAT_PATHS = ("/v1/chat/completions", "/chat/completions")


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
    """A chat.completion object in OpenAI's shape."""
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


# --- the echo answers --------------------------------------------------------------------------

def schema_name(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    response_format = body.get("response_format") or {}
    if not isinstance(response_format, dict):
        return None
    return (response_format.get("json_schema") or {}).get("name")


def first_user_message(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):  # content parts
            return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
        return content or ""
    return ""


def echo_content(body: Any) -> Any:
    name = schema_name(body)
    user = first_user_message(body)
    if name == "extract_concepts":
        return echo_extract_concepts(user)
    if name == "describe_concept":
        return echo_describe_concept(user)
    if name == "explain_connection":
        return echo_explain_connection(user)
    if name == "write_questions":
        return echo_write_questions(user)
    if isinstance(body, dict) and (body.get("response_format") or {}).get("type") in ("json_object", "json_schema"):
        return {}
    return f"echo: {user[:200]}"


_PAGE_MARKER = re.compile(r"^\[page ([^\]\n]+)\]\n", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_WORD = r"[A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*"
_PHRASE = re.compile(rf"\b{_WORD}(?: {_WORD}){{0,2}}\b")
_ACRONYM_AFTER = re.compile(r"\s*\(([A-Z][A-Z0-9]{1,9})\)")
_STOP = frozenset("""
    A An The This That These Those There Their They Then Than Thus Here Its It In On At Of For From
    By With Without To Into And Or But If When While Where Which What Who Why How As Also Both Each
    Every All Some Any Many Most Such Other Another One Two First Second Finally However Therefore
    Because Since After Before During Although Though We You He She I Our Your Is Are Was Were Be
    Figure Fig Table Chapter Section Page See Note Example Der Die Das Ein Eine Und Oder Im Mit
    """.split())


def parse_pages(user: str) -> list[tuple[str, str]]:
    """[(page label, page text)] from the "[page X]" segments of a user message."""
    start = user.find("<document>")
    text = user[start + len("<document>"):] if start >= 0 else user
    end = text.rfind("</document>")
    if end >= 0:
        text = text[:end]
    markers = list(_PAGE_MARKER.finditer(text))
    pages = []
    for index, marker in enumerate(markers):
        stop = markers[index + 1].start() if index + 1 < len(markers) else len(text)
        pages.append((marker.group(1), text[marker.end():stop].rstrip("\n")))
    return pages


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _clean_phrase(phrase: str) -> str | None:
    words = phrase.split(" ")
    while words and words[0] in _STOP:
        words = words[1:]
    while words and words[-1] in _STOP:
        words = words[:-1]
    name = " ".join(words)
    return name if len(name) >= 3 and not name.isdigit() else None


def echo_extract_concepts(user: str) -> dict:
    pages = parse_pages(user)
    limit_match = re.search(r"at most (\d+) concepts", user)
    limit = int(limit_match.group(1)) if limit_match else 15

    order: list[str] = []
    counts: Counter[str] = Counter()
    pages_of: dict[str, list[str]] = {}
    first_sentence: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}
    sentence_concepts: list[tuple[str, str, list[str]]] = []  # (page, sentence, names)

    for label, text in pages:
        for sentence in _sentences(text):
            names_here: list[str] = []
            for match in _PHRASE.finditer(sentence):
                name = _clean_phrase(match.group(0))
                if name is None:
                    continue
                acronym = _ACRONYM_AFTER.match(sentence, match.end())
                if acronym and acronym.group(1) != name and acronym.group(1) not in aliases.setdefault(name, []):
                    aliases[name].append(acronym.group(1))
                if name not in pages_of:
                    order.append(name)
                    pages_of[name] = []
                    first_sentence[name] = sentence
                counts[name] += 1
                if label not in pages_of[name]:
                    pages_of[name].append(label)
                if name not in names_here:
                    names_here.append(name)
            sentence_concepts.append((label, sentence, names_here))

    alias_of = {alias: name for name, names in aliases.items() for alias in names if alias not in aliases}
    for alias, name in alias_of.items():  # "DNA" on its own counts for "Deoxyribonucleic Acid"
        if alias in pages_of:
            counts[name] += counts.pop(alias)
            pages_of[name] += [label for label in pages_of[alias] if label not in pages_of[name]]
    chosen = [name for name in order if name not in alias_of][:limit]
    top = max((counts[name] for name in chosen), default=1)
    concepts = [{
        "name": name,
        "aliases": aliases.get(name, []),
        "description": first_sentence[name][:200],
        "importance": round(counts[name] / top, 2),
        "pages": pages_of[name],
    } for name in chosen]

    chosen_set = set(chosen)
    relations, seen = [], set()
    for label, sentence, names in sentence_concepts:
        names = [alias_of.get(name, name) for name in names]
        names = [name for index, name in enumerate(names) if name in chosen_set and name not in names[:index]]
        for source, target in zip(names, names[1:]):
            if (source, target) in seen:
                continue
            seen.add((source, target))
            padded = f" {sentence.lower()} "
            kind = ("is_a" if (" is a " in padded or " is an " in padded) else
                    "part_of" if " part of " in padded else
                    "causes" if (" causes " in padded or " leads to " in padded) else "related_to")
            relations.append({"source": source, "target": target, "type": kind,
                              "description": f"{source} {kind.replace('_', ' ')} {target}",
                              "page": label, "quote": sentence[:300].rstrip()})
    return {"concepts": concepts, "relations": relations[: 2 * limit]}


_PASSAGE = re.compile(r"^\[page ([^\]\n]+)\] (.*)$", re.MULTILINE)


def _passages(user: str) -> list[tuple[str, str]]:
    start, end = user.find("<passages>"), user.rfind("</passages>")
    section = user[start:end] if 0 <= start < end else user
    return [(m.group(1), m.group(2).strip()) for m in _PASSAGE.finditer(section)]


def _line_value(user: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}:[ \t]*(.+)$", user, re.MULTILINE)
    return match.group(1).strip() if match else ""


def echo_describe_concept(user: str) -> dict:
    name = _line_value(user, "Concept") or "This concept"
    passages = _passages(user)
    if passages:
        return {"description": f"{name} is explained on page {passages[0][0]} of the material."}
    return {"description": f"{name} is a concept from the study material."}


def echo_explain_connection(user: str) -> dict:
    source = _line_value(user, "Source concept") or "The source"
    target = _line_value(user, "Target concept") or "the target"
    cited = _passages(user)[:3]
    steps = re.findall(r"^- (.+?) --(\w+)--> (.+?)(?: \[page [^\]]+\].*)?$", user, re.MULTILINE)
    sentences = [f"{source} is connected to {target}."]
    for step_source, kind, step_target in steps[:4]:
        sentences.append(f"{step_source} {kind.replace('_', ' ')} {step_target}.")
    for page, _quote in cited:
        sentences.append(f"The material discusses this on page {page} (p. {page}).")
    return {"text": " ".join(sentences),
            "citations": [{"page": page, "quote": quote[:200]} for page, quote in cited]}


def _listed_concepts(user: str, heading: str) -> list[str]:
    start = user.find(heading + "\n")
    if start < 0:
        return []
    block = user[start + len(heading) + 1:].split("\n\n", 1)[0]
    return [m.group(1).strip() for m in re.finditer(r"^- (.+?)(?: \(also: [^)]*\))?(?: \[pages [^\]]*\])?(?::|$)",
                                                     block, re.MULTILINE)]


def _named(name: str, text: str) -> re.Match | None:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)


def echo_write_questions(user: str) -> dict:
    types_line = _line_value(user, "Question types, in order")
    types = [t.strip() for t in types_line.split(",") if t.strip()]
    options_match = re.search(r"^Options per multiple-choice question: (\d+)$", user, re.MULTILINE)
    n_options = int(options_match.group(1)) if options_match else 4
    focus = _listed_concepts(user, "Concepts to test:")
    others = _listed_concepts(user, "Other concepts of the document:")
    avoid_start = user.find("Do not repeat:\n")
    avoid = set(user[avoid_start:].splitlines()[1:]) if avoid_start >= 0 else set()
    questions, used = [], set()
    for kind in types:
        for page, passage in _passages(user):
            if passage in used:
                continue
            name = next((n for n in focus if _named(n, passage)), None)
            if name is None:
                continue
            surface = _named(name, passage).group(0)
            blanked = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "_____", passage, flags=re.IGNORECASE)
            question = {"type": kind, "options": [], "answer": surface, "accepted": [], "page": page, "quote": passage,
                        "explanation": f"The passage on page {page} says so.", "concepts": [name]}
            if kind == "fill_in_blank":
                question["prompt"] = blanked
            elif kind == "short_answer":
                question["prompt"] = f"Which term is missing here: {blanked}"
            elif kind == "true_false":
                question.update(prompt=passage, options=["True", "False"], answer="True")
            else:
                name_words = set(name.lower().split())
                wrong = [o for o in [*focus, *others] if o != name and not _named(o, passage)
                         and not name_words & set(o.lower().split())][: n_options - 1]
                question.update(prompt=f"Which concept fits the blank? {blanked}", options=[name, *wrong], answer=name)
            if f"- {question['prompt']}" in avoid:
                continue
            used.add(passage)
            questions.append(question)
            break
    return {"questions": questions}


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
            reply = fake._next_behaviour()(record)
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
                 default: Behaviour | None = None):
        self.host, self.port = host, port
        self.delay = delay
        self.default: Behaviour = default or echo()
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0  # POST requests being answered right now
        self.max_in_flight = 0  # the most at once since start (or reset)
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

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
