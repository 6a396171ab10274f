"""The counters of bench/study_quality.py: every kind of junk a teacher would strike out.

Each check looks at what the product stored (concepts, relations, questions, explanations) next
to the document's raw page text and its study text (the body text the product reads). They are
deliberately independent of the product's own filters: a filter that misses something is counted
here, not trusted.
"""

from __future__ import annotations

import re
from collections import Counter

from wordfreq import zipf_frequency

from studyapp.ai.concept_names import lost_apostrophe
from studyapp.ai.text import stopwords

VENUE = re.compile(r"\b(?:conference|proceedings|proc|journal|symposium|workshop|acm|ieee|press|verlag"
                   r"|university|universität|transactions|springer|elsevier)\b", re.IGNORECASE)
CITED = r"(?:\s+et\s+al\b|\s*\[\d|\s*\(\d{4}|,\s*\d{4}\b)"
CONTEXT_OPENERS = re.compile(
    r"^(?:it|this|these|those|they|such|and|but|however|thus|hence|here|there|es|dies|diese|dieser|dieses"
    r"|und|aber|daher|il|elle|ils|ceci|cela|et|mais|ello|esto|esta|estos|y|pero)\b", re.IGNORECASE)
CONTEXT_WORDS = re.compile(r"\bone such\b|\bthe latter\b|\bthe former\b|\bthe above\b|\bsee above\b"
                           r"|\bthe following\b|\bas follows\b|\b(?:this|these|those) (?:view|approach|case|way"
                           r"|problem|method|result|results|one|ones|idea|work|section|paper)\b", re.IGNORECASE)
GENERIC_ZIPF = 5.0  # a single word this common in general language is no key idea on its own
DEBRIS = re.compile(r"[^\W\d_]{2,}- [a-zäöüß]{2,}|[^\W\d_]-\n")


def normalised(text: str) -> str:
    return " ".join(text.split()).lower()


# --- concepts -------------------------------------------------------------------------------------

def concept_junk(name: str, raw: str, study: str, language: str) -> list[str]:
    """The kinds of junk a concept name is (empty: a fine concept)."""
    kinds = []
    words = name.split()
    if _person_like(name, raw):
        kinds.append("name")
    if VENUE.search(name):
        kinds.append("venue")
    if any(_fragment(word, raw, language) for word in words):
        kinds.append("fragment")
    stop = stopwords(language)
    if words and (words[0].lower() in stop or words[-1].lower() in stop):
        kinds.append("function_word_edge")
    if normalised(name) not in normalised(study) and normalised(name) in normalised(raw):
        kinds.append("outside_body")
    if len(words) == 1 and not name.isupper() and zipf_frequency(name.lower(), language) >= GENERIC_ZIPF:
        kinds.append("generic")
    if any(lost_apostrophe(word, stop) for word in words):
        kinds.append("fragment")
    return kinds


def _person_like(name: str, raw: str) -> bool:
    """Cited like an author ("Gal et al.", "Smith [3]", "Jones (2004)"), or Title Case words the
    document never writes in lower case that are not in the word list (names, not terms)."""
    words = name.split()
    if not name[:1].isupper():
        return False  # a term in lower case ("traffic [3]") is no author
    if re.search(re.escape(name) + r"\s+et\s+al\b", raw):
        return True
    if len(words) == 1 and not name.isupper() and re.search(re.escape(name) + CITED, raw):
        return True
    if len(words) < 2 or not all(w[:1].isupper() and w[1:].islower() for w in words):
        return False
    lowered = re.search(r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)", raw)
    rare = all(zipf_frequency(w.lower(), "en") < 3.0 for w in words)
    return lowered is None and rare


def _fragment(word: str, raw: str, language: str) -> bool:
    """A piece of a word split at a line end ("tive" from "selec-tive")."""
    if not word.isalpha() or not word.islower() or len(word) > 12:
        return False
    if zipf_frequency(word, language) >= 1.5:
        return False
    return bool(re.search(r"-\s*\n\s*" + re.escape(word) + r"\b|\b" + re.escape(word) + r"-\s*\n", raw))


# --- questions ------------------------------------------------------------------------------------

def question_form(question) -> str:
    if question.type == "multiple_choice":
        prompt = question.prompt.lower()
        if "completes" in prompt or "vervollständigt" in prompt:
            return "mc:completes-the-sentence"
        if "means" in prompt or "bedeutet" in prompt or "bezeichnet" in prompt:
            return "mc:which-term-means"
        if "kind of" in prompt or "part of" in prompt or "art von" in prompt or "teil von" in prompt:
            return "mc:relation"
        return "mc:other"
    if question.type == "true_false":
        return f"tf:{question.answer.lower()}"
    return question.type


def question_junk(question, study: str) -> list[str]:
    kinds = []
    if normalised(question.quote) not in normalised(study):
        kinds.append("outside_body")
    stem = question.prompt.replace("_____", " ").strip()
    if CONTEXT_OPENERS.match(stem) or CONTEXT_WORDS.search(stem) or CONTEXT_OPENERS.match(question.quote.strip()):
        kinds.append("context_word")
    if DEBRIS.search(question.prompt) or any(DEBRIS.search(o) for o in question.options):
        kinds.append("line_break_debris")
    if question.type == "multiple_choice" and _mixed_kinds(question.answer, question.options):
        kinds.append("distractor_of_another_kind")
    return kinds


def _shape(term: str) -> tuple[str, bool]:
    term = term[:1].lower() + term[1:] if term[1:2].islower() else term  # options are shown capitalised
    words = term.split()
    last = words[-1] if words else ""
    if term.isupper() and len(term) <= 8:
        kind = "acronym"
    elif all(w[:1].isupper() for w in words) and not term.isupper():
        kind = "proper"
    elif any(ch.isdigit() for ch in term):
        kind = "quantity"
    else:
        kind = "common"
    plural = last.lower().endswith("s") and not last.lower().endswith(("ss", "us", "is", "physics", "mathematics"))
    return kind, plural


def _mixed_kinds(answer: str, options: list[str]) -> bool:
    """A distractor of another coarse kind (a name beside a common noun, a number beside a term)
    or another grammatical number than the answer."""
    want = _shape(answer)
    return any(_shape(option) != want for option in options if option != answer)


# --- explanations -----------------------------------------------------------------------------------

def states_link(text: str, source: str, target: str) -> bool:
    """The explanation's first sentence, outside any quote, names both concepts and is no
    "there is no link" sentence."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    unquoted = re.sub(r"[“\"„«][^”\"“»]*[”\"“»]", " ", first).lower()
    no_link = re.search(r"\bno direct\b|\bdoes not (?:say|state|link)\b|\bkeine direkte\b", unquoted)
    return source.lower() in unquoted and target.lower() in unquoted and not no_link


def tally(rows: list[dict], key: str) -> Counter:
    total: Counter = Counter()
    for row in rows:
        total.update(row[key])
    return total
