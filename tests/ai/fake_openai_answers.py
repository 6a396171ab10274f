"""The echo answers of the fake OpenAI-compatible server (tests/ai/fake_openai.py).

They read the request's operation (the `response_format` schema name, or the layout of the user
message when the format names none) and the user message (layout: studyapp/ai/prompts.py), and
answer deterministically, as the fake's module doc describes. A request whose messages do not carry
the instructions (a server that drops the system role) gets prose, as a real model would answer.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

# --- the echo answers --------------------------------------------------------------------------

def schema_name(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    response_format = body.get("response_format") or {}
    if not isinstance(response_format, dict):
        return None
    return (response_format.get("json_schema") or {}).get("name")


# How each operation's user message looks (studyapp/ai/prompts.py), for requests whose format
# names no schema (json_object, plain instructions).
_LAYOUTS = (("write_questions", "Question types, in order:"), ("explain_connection", "Source concept:"),
            ("extract_concepts", "<document>"), ("describe_concept", "Concept:"))
# Every system prompt says this: a model that never saw it does not know to answer in JSON.
INSTRUCTIONS_MARK = "Answer with a single JSON object"


def operation(body: Any) -> str | None:
    """The operation a request asks for: its schema name, else what its user message looks like."""
    name = schema_name(body)
    if name:
        return name
    user = first_user_message(body)
    return next((op for op, mark in _LAYOUTS if mark in user), None)


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


def sees_instructions(body: Any) -> bool:
    messages = body.get("messages", []) if isinstance(body, dict) else []
    return any(INSTRUCTIONS_MARK in str(message.get("content") or "") for message in messages)


def echo_content(body: Any) -> Any:
    name = operation(body)
    user = first_user_message(body)
    if name and not sees_instructions(body):
        return f"Sure! This text is about {user[:80]}... Let me know if you need anything else."
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


