"""Writing quiz questions offline, for the `local` provider (English, German).

Every question rests on one passage the caller gives (verbatim page text) and cites it:

* fill_in_blank: a definitional sentence of a concept ("Osmosis is the diffusion of water ...")
  with the concept blanked out; at `hard`, another concept of such a sentence is blanked instead.
* short_answer: the term for a definition: "What is the term for the diffusion of water across a
  selectively permeable membrane?" (from "X is ..." and "... is called X" / "... heißt X").
* multiple_choice: which concept a definition describes, or the target of a typed relation
  ("According to the document, mitosis is a kind of ...?"). Distractors are other concepts of the
  graph of the same kind as the answer (:func:`kind_score`): never a variant, part or alias of the
  answer or of each other (:func:`is_variant`), never named in the cited passage, never linked to
  the question's subject by a relation (which could make them right too).
* true_false: a relation's passage as it stands (true), or with the relation's target swapped for a
  concept of the same kind that the material never links to the source (false).

Deterministic: the same input gives the same questions. Passages are chosen by the caller
(:func:`quotable` says which sentences make good ones); concepts named in them are found with the
inflection-tolerant patterns of studyapp.ai.relations.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz.distance import DamerauLevenshtein

from studyapp.ai import relations as rel
from studyapp.ai.schemas import (
    FALSE, TRUE, Difficulty, QuestionOut, QuestionType, QuizInput, QuizOut, RelationType,
)
from studyapp.ai.text import guess_language, stopwords

BLANK = "_____"

# --- what makes a sentence worth quoting in a question --------------------------------------------

QUOTE_MIN_WORDS, QUOTE_MAX_WORDS, QUOTE_MAX_CHARS = 6, 45, 300
# Formulas make poor quiz sentences: a student cannot answer around "∀x∈X : ∃M ∈ U".
_FORMULA = re.compile(r"[=<>∈∉⊆⊂⊇⊃∪∩→←↦⇒⇔⇐∀∃∑∏∫√≤≥±×÷∂∇∞^_{}|\\~∘◦≅≃≈≠⊕⊗§]")
_URLISH = re.compile(r"://|\bwww\.|@|\.(?:com|org|net|de|html?)\b", re.IGNORECASE)


# Statements that lean on what came before ("Then G is ...", "Sei X ...") or are notes about the text.
_DEPENDENT_OPENERS = frozenset(
    """then thus hence so this these those it they also therefore here there such that let note remark proof
    dann sei seien also somit daher hier damit dies diese dieser dieses es sie hinweis bemerkung beweis analog
    ebenso außerdem and but however or nor yet moreover furthermore likewise similarly consequently
    und aber oder jedoch dennoch folglich""".split())
# Words that point back at what came before, anywhere in the sentence: "_____ is one such law."
_CONTEXT_PHRASE = re.compile(
    r"\b(?:one such|such an?|the latter|the former|the above|see above|as follows|the following"
    r"|(?:this|these|those) (?:view|approach|case|cases|way|problem|method|methods|result|results|one|ones|idea"
    r"|work|section|paper|chapter|example|figure|table)"
    r"|ein solche[rs]?|solche[nmrs]?|letztere[nmrs]?|erstere[nmrs]?|obige[nmrs]?|wie folgt"
    # the author talking about the document, not about its subject
    r"|in (?:the|this) (?:next |previous |following |final |last |present |remaining )?(?:section|chapter|paper|article)"
    r"|we (?:present|describe|discuss|propose|emphasi[sz]e|summari[sz]e|report|outline|review)"
    r"|im (?:nächsten|folgenden|vorigen|letzten) (?:abschnitt|kapitel)"
    # what the reader cannot see in a quiz: a figure, a table, "these" things named before
    r"|(?:fig\.|figure|table|abb\.|abbildung|tabelle)\s*\d|(?:each|all|some|none|both|one) of (?:these|those|them)"
    # a section heading run into the sentence by the text layer ("Introduction Kleinberg's ...")
    r"|^(?:introduction|conclusions?|abstract|summary|discussion|results|background|related work|evaluation"
    r"|einleitung|zusammenfassung|fazit|ergebnisse) (?-i:[A-ZÄÖÜ])\w*)\b",
    re.IGNORECASE)
_INSTRUCTIONS = frozenset("show prove define explain describe compute calculate find give determine consider".split())
# Single-letter names of mathematical objects ("X", "G"), footnote marks glued to words ("1Die").
_SYMBOL_WORD = re.compile(r"(?<![\w'’])(?![AaI](?![\w'’]))[^\W\d_](?![\w'’])|\b\d+[^\W\d_]+|\b[^\W\d_]+\d+\w*")


def quotable(sentence: str) -> bool:
    """A complete, plain statement of reasonable length that stands on its own: no formula, symbol,
    URL, heading or fragment, and not leaning on the sentence before."""
    text = " ".join(sentence.split())
    words = text.split()
    if not QUOTE_MIN_WORDS <= len(words) <= QUOTE_MAX_WORDS or len(text) > QUOTE_MAX_CHARS:
        return False
    if text[-1] not in ".!" or not text[0].isupper() or text.endswith(("..", "…")):
        return False  # a question, a heading, a fragment cut at a page break, or an elided formula
    if words[0].strip(",:;").lower() in _DEPENDENT_OPENERS | _INSTRUCTIONS or words[1].strip(",:;").lower() == "sie":
        return False  # leans on the sentence before, or is an exercise ("Zeigen Sie ...", "Prove that ...")
    if any(w.lower().strip(",.;:") in ("ich", "i") for w in words if w != "I'm"):
        return False  # the author speaking (prefaces, acknowledgements)
    if _CONTEXT_PHRASE.search(text):
        return False  # only makes sense with the sentences around it
    if _FORMULA.search(text) or _URLISH.search(text) or _SYMBOL_WORD.search(text):
        return False
    visible = text.replace(" ", "")
    if sum(c.isalpha() for c in visible) < 0.8 * len(visible) or sum(c.isdigit() for c in visible) > 0.05 * len(visible):
        return False
    return sum(w.isupper() and len(w) > 1 for w in words) * 3 < len(words)  # not a running head


# --- comparing answers -----------------------------------------------------------------------------

_ARTICLES = frozenset("a an the der die das den dem des ein eine einen einem einer eines".split())
_PUNCTUATION = re.compile(r"[^\w\s]")


def normalise_answer(text: str) -> str:
    """Case, accents, punctuation, articles and spacing removed: "The Mitochondrion." -> "mitochondrion"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("ß", "ss")
    words = _PUNCTUATION.sub(" ", text).split()
    while len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def allowed_typos(answer: str) -> int:
    """How many edits still count as a typo of `answer` (none for "DNA", 1 up to 7 letters...)."""
    letters = len(answer.replace(" ", ""))
    if letters <= 3:
        return 0
    if letters <= 7:
        return 1
    if letters <= 12:
        return 2
    return 3


def _stem(word: str) -> str:
    return word[:5] if len(word) >= 4 else word


def is_variant(a: str, b: str) -> bool:
    """True if `a` and `b` name the same thing or one is part of the other: equal after
    normalising, one's words within the other's ("cell" / "cell division"), words sharing a stem
    ("Topologie" / "topologischer Raum", "Mitochondrion" / "mitochondria"), an acronym of the
    other ("DNA" / "deoxyribonucleic acid"), or a typo apart (what grading would accept for it)."""
    na, nb = normalise_answer(a), normalise_answer(b)
    if not na or not nb:
        return na == nb
    if na == nb:
        return True
    wa, wb = na.split(), nb.split()
    if set(wa) <= set(wb) or set(wb) <= set(wa):
        return True
    content_a = {_stem(w) for w in wa if len(w) >= 4}
    content_b = {_stem(w) for w in wb if len(w) >= 4}
    if content_a & content_b:
        return True
    for short, long in ((wa, wb), (wb, wa)):
        if len(short) == 1 and len(long) >= 2 and _abbreviates(short[0], " ".join(long)):
            return True
    return DamerauLevenshtein.distance(na, nb) <= allowed_typos(min(na, nb, key=len))


def _abbreviates(short: str, long: str) -> bool:
    """ "dna" for "deoxyribonucleic acid": its letters in order, the first starting the long form,
    and as many words as letters at most."""
    if not 2 <= len(short) <= 8 or long[0] != short[0] or len(long.split()) > len(short):
        return False
    position = 0
    for letter in short:
        position = long.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def mentions(text: str, name: str, language: str) -> list[tuple[int, int]]:
    return rel.find_mentions(text, name, language)


# --- the material, as the writer sees it ------------------------------------------------------------

_GENUS_SKIP = frozenset("type kind form class sort variant art sorte klasse typ spezialfall sonderfall".split())
_GENUS_STOP = frozenset(
    """of that which who whose in on from with for to by and or as at into than where when while
    von vom mit für zu zur zum aus bei in im auf und oder als der die das des dem den welche welcher welches
    wobei wenn""".split())
_PROCESS_ENDINGS = ("sis", "tion", "sion", "ment", "ance", "ence", "ing", "ung", "ismus", "ation", "ysis")
_VERB_AFTER_SUBJECT = re.compile(r"^\s*(is|are|ist|sind)\s+", re.IGNORECASE)
_CALLED_BEFORE = {
    "en": re.compile(r"^(?P<subject>.+?),?\s+(?:is|are)\s+(?:called|termed|named|known as|referred to as)\s+$",
                     re.IGNORECASE),
    "de": re.compile(r"^(?P<subject>.+?)\s+(?:heißt|heißen|nennt man|wird\s+.{0,30}?genannt)\s+$", re.IGNORECASE),
}


@dataclass
class _Concept:
    name: str
    aliases: list[str]
    importance: float
    focus: bool
    description: str
    genus: str = ""
    parents: set[str] = field(default_factory=set)  # keys of what it is a kind / part / example of

    @property
    def key(self) -> str:
        return normalise_answer(self.name)

    @property
    def names(self) -> list[str]:
        return sorted({self.name, *self.aliases}, key=len, reverse=True)

    @property
    def family(self) -> str:
        last = normalise_answer(self.name).split()[-1:] or [""]
        if self.name.isupper() and len(self.name) <= 8:
            return "acronym"
        if last[0].endswith(_PROCESS_ENDINGS):
            return "process"
        return "thing"

    def display(self) -> str:
        return self.name[:1].upper() + self.name[1:]


@dataclass(frozen=True)
class _Passage:
    page: str
    text: str


@dataclass
class _Candidate:
    question: QuestionOut
    score: float
    concept: str  # key of the concept it is mainly about (to spread questions over concepts)


class _Material:
    """The request, indexed: concepts by key, passages with the concepts they mention."""

    def __init__(self, request: QuizInput):
        self.request = request
        sample = " ".join(p.quote for p in request.passages[:30])
        self.language = request.language if request.language in ("en", "de") else guess_language(sample)
        self.concepts = {}
        for c in request.concepts:
            concept = _Concept(c.name, list(c.aliases), c.importance, c.focus, c.description)
            self.concepts.setdefault(concept.key, concept)
        self.by_name = {normalise_answer(n): c for c in self.concepts.values() for n in c.names}
        self.passages = [_Passage(p.page, " ".join(p.quote.split())) for p in request.passages if p.quote.strip()]
        self.relations = []
        self.linked: dict[str, set[str]] = {}
        for r in request.relations:
            source, target = self.concept(r.source), self.concept(r.target)
            if source is None or target is None or source is target:
                continue
            self.relations.append((source, target, r))
            self.linked.setdefault(source.key, set()).add(target.key)
            self.linked.setdefault(target.key, set()).add(source.key)
            if r.type in (RelationType.IS_A, RelationType.PART_OF):
                source.parents.add(target.key)
            elif r.type == RelationType.EXAMPLE_OF:
                source.parents.add(target.key)
        for concept in self.concepts.values():
            concept.genus = self._genus(concept)
        self._mentions: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def concept(self, name: str) -> _Concept | None:
        return self.by_name.get(normalise_answer(name))

    @property
    def focus(self) -> list[_Concept]:
        return [c for c in self.concepts.values() if c.focus]

    def spans(self, text: str, concept: _Concept) -> list[tuple[int, int]]:
        """Mentions of `concept` in `text` that are not part of a longer concept's mention
        ("cell" inside "cell division")."""
        key = (text, concept.key)
        if key not in self._mentions:
            own = sorted({s for n in concept.names for s in mentions(text, n, self.language)})
            longer = [s for other in self.concepts.values() if other is not concept
                      and len(other.name) > len(concept.name)
                      for n in other.names for s in mentions(text, n, self.language)]
            free = [s for s in own if not any(b[0] <= s[0] and s[1] <= b[1] and b[1] - b[0] > s[1] - s[0]
                                               for b in longer)]
            self._mentions[key] = _disjoint(free)
        return self._mentions[key]

    def named_in(self, text: str, concept: _Concept) -> bool:
        return any(mentions(text, n, self.language) for n in concept.names)

    def _genus(self, concept: _Concept) -> str:
        """The head noun of the concept's definition: "layer" for "a thin layer that ..."."""
        for text in [concept.description, *(p.text for p in self.passages)]:
            if not text:
                continue
            for name in concept.names:
                found = mentions(text, name, self.language)
                if not found or rel.definition_strength(text, name, self.language) < 3:
                    continue
                genus = _head_noun(text[found[0][1]:])
                if genus:
                    return genus
        return ""


def _disjoint(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def _head_noun(after_subject: str) -> str:
    match = _VERB_AFTER_SUBJECT.match(after_subject)
    if not match:
        return ""
    words = [w.strip(",;:().") for w in after_subject[match.end():].split()]
    phrase: list[str] = []
    for index, word in enumerate(words[:12]):
        low = word.lower()
        if not phrase and low in _ARTICLES | {"one", "any", "some"}:
            continue
        if low in _GENUS_STOP or not word:
            if phrase and phrase[-1].lower() in _GENUS_SKIP and low in ("of", "von"):
                phrase = []  # "a type of cell division": the genus is "cell division"
                continue
            break
        phrase.append(word)
    if phrase and phrase[-1].lower() in _GENUS_SKIP:
        return ""
    return normalise_answer(" ".join(phrase[-2:])) if phrase else ""


def kind_score(answer: _Concept, other: _Concept, material: _Material) -> float:
    """How much `other` is a concept of the same kind as `answer` (higher: a better distractor).

    Same genus in their definitions ("site of photosynthesis" / "site of cellular respiration"),
    siblings under one is_a / part_of parent, contrasted in the text, the same word family
    (processes, acronyms), the same shape; a parent or child of the answer is another kind.
    """
    score = 0.0
    if answer.genus and answer.genus == other.genus:
        score += 3.0
    if answer.parents & other.parents:
        score += 3.0
    if answer.key in other.parents or other.key in answer.parents:
        score -= 1.0
    if other.key in material.linked.get(answer.key, set()):
        score += 1.0
    if answer.family == other.family:
        score += 1.5
    if len(answer.name.split()) == len(other.name.split()):
        score += 0.5
    if answer.name[:1].isupper() != other.name[:1].isupper() and material.language != "de":
        score -= 0.5  # a name ("Golgi") among common nouns stands out
    return score + 0.3 * other.importance


def same_shape(answer: str, other: str, language: str) -> bool:
    """The same coarse form: acronym or word, proper name or term (English writes terms in lower
    case), and the same grammatical number (English plural -s)."""
    if (answer.isupper() and len(answer) <= 8) != (other.isupper() and len(other) <= 8):
        return False
    if language != "en":
        return True
    return answer[:1].isupper() == other[:1].isupper() and _is_plural(answer) == _is_plural(other)


# Fields of study end in -ics and are singular; other -ics words are plurals ("topics", "metrics").
_SINGULAR_ICS = frozenset(
    """physics mathematics economics statistics linguistics genetics electronics dynamics thermodynamics
    mechanics semantics ethics politics graphics logistics robotics informatics acoustics optics
    analytics aerodynamics bioinformatics phonetics pragmatics""".split())


def _is_plural(name: str) -> bool:
    last = name.split()[-1].lower() if name.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is")) and last not in _SINGULAR_ICS


def usable_name(name: str) -> bool:
    """A concept name fit to be asked about or offered as an option: no symbols like "SL2", no
    index entries ("siehe Isometrie"), no whole clauses."""
    if len(name) <= 3 and not name.isupper():
        return False  # "Abb", "Fig": abbreviations of the text's furniture
    return (3 <= len(name) <= 60 and not any(ch.isdigit() for ch in name) and len(name.split()) <= 4
            and not name.lower().startswith(("siehe ", "see ")) and not _FORMULA.search(name))


def usable_as_option(concept: _Concept) -> bool:
    return usable_name(concept.name)


# --- the writer ----------------------------------------------------------------------------------


def write_questions(request: QuizInput) -> QuizOut:
    material = _Material(request)
    pools = {
        QuestionType.FILL_IN_BLANK: _blank_candidates(material),
        QuestionType.SHORT_ANSWER: _short_answer_candidates(material),
        QuestionType.MULTIPLE_CHOICE: _choice_candidates(material),
        QuestionType.TRUE_FALSE: _true_false_candidates(material),
    }
    return QuizOut(questions=_select(request, pools))


def _select(request: QuizInput, pools: dict[QuestionType, list[_Candidate]]) -> list[QuestionOut]:
    """One question per requested type, in order: the best candidate not yet used, spreading the
    questions over concepts and never citing one passage twice. A type with nothing left is
    replaced by another requested type."""
    avoid = {normalise_answer(p) for p in request.avoid}
    used_quotes: set[str] = set()
    used_concepts: dict[str, int] = {}
    used_forms: dict[str, int] = {}
    cap = max(MIN_FORM_CAP, len(request.types) // 4)
    chosen: list[QuestionOut] = []
    allowed = list(dict.fromkeys(request.types))
    for wanted in request.types:
        for type_ in [wanted, *[t for t in allowed if t != wanted]]:
            best = _best(pools[type_], avoid, used_quotes, used_concepts, used_forms, cap)
            if best is not None:
                break
        if best is None:
            break
        pools[best.question.type].remove(best)
        used_quotes.add(normalise_answer(best.question.quote))
        used_concepts[best.concept] = used_concepts.get(best.concept, 0) + 1
        used_forms[_form(best.question)] = used_forms.get(_form(best.question), 0) + 1
        chosen.append(best.question)
    return chosen


# A form asked again costs this much of a candidate's score, so a quiz varies its questions
# ("Which term completes the sentence?" ten times over is a drill, not a quiz).
FORM_REPEAT_PENALTY = 1.0
MIN_FORM_CAP = 2  # a multiple-choice frame at most this often, or a quarter of the quiz


def _form(question: QuestionOut) -> str:
    """The question's form: its type, and for multiple choice the frame of its prompt."""
    if question.type != QuestionType.MULTIPLE_CHOICE:
        return f"{question.type.value}:{question.answer}" if question.type == QuestionType.TRUE_FALSE else question.type.value
    return " ".join(question.prompt.split()[:3])


def _best(pool: list[_Candidate], avoid: set[str], used_quotes: set[str],
          used_concepts: dict[str, int], used_forms: dict[str, int], cap: int) -> _Candidate | None:
    best, best_score = None, float("-inf")
    for candidate in pool:
        quote = normalise_answer(candidate.question.quote)
        if quote in used_quotes or quote in avoid or normalise_answer(candidate.question.prompt) in avoid:
            continue
        form = _form(candidate.question)
        if candidate.question.type == QuestionType.MULTIPLE_CHOICE and used_forms.get(form, 0) >= cap:
            continue  # enough of this frame: another form (or type) instead
        score = (candidate.score - 1.5 * used_concepts.get(candidate.concept, 0)
                 - FORM_REPEAT_PENALTY * used_forms.get(_form(candidate.question), 0))
        if score > best_score:
            best, best_score = candidate, score
    return best


def _definition_bonus(strength: int) -> float:
    return {3: 1.0, 2: 0.8, 1: 0.3}.get(strength, 0.0)


def _difficulty_bonus(material: _Material, *, hard: bool) -> float:
    difficulty = material.request.difficulty
    if difficulty == Difficulty.HARD:
        return 0.6 if hard else 0.0
    if difficulty == Difficulty.EASY:
        return -0.6 if hard else 0.0
    return 0.0


# --- fill in the blank ---------------------------------------------------------------------------


def _blank_candidates(material: _Material) -> list[_Candidate]:
    out = []
    for passage in material.passages:
        defined = [c for c in material.focus if _strength(material, passage.text, c) >= 2]
        for concept in material.concepts.values():
            spans = material.spans(passage.text, concept)
            if not spans:
                continue
            strength = _strength(material, passage.text, concept)
            if concept.focus:
                score = concept.importance + _definition_bonus(strength)
            elif defined and usable_as_option(concept):
                # A harder blank: a term used in another concept's definition.
                score = 0.5 * concept.importance + 0.5 + _difficulty_bonus(material, hard=True)
            else:
                continue
            question = _blank(material, passage, concept, spans, defined[0] if defined and not concept.focus else None)
            if question is not None:
                out.append(_Candidate(question, score, concept.key))
    return out


def _blank(material: _Material, passage: _Passage, concept: _Concept, spans, defined: _Concept | None) -> QuestionOut | None:
    if len(spans) != 1:
        return None  # one blank per question: a term the sentence repeats gives itself away
    text = passage.text
    prompt, last = [], 0
    for start, end in spans:
        prompt.append(text[last:start])
        prompt.append(BLANK)
        last = end
    prompt.append(text[last:])
    prompt = _neutral_articles("".join(prompt), material.language)
    rest = prompt.replace(BLANK, " ")
    if len(rest.split()) < 4 or any(mentions(rest, n, material.language) for n in concept.names):
        return None  # too little left to go on, or the answer still shows
    surfaces = list(dict.fromkeys(text[s:e] for s, e in spans))
    answer = surfaces[0]
    accepted = _accepted(answer, concept, surfaces)
    if material.language == "de":
        explanation = f"Gesucht ist „{answer}“: So steht es auf S. {passage.page}"
        explanation += f" in der Definition von {defined.name}." if defined else "."
    else:
        explanation = f"The missing term is “{answer}”, as the document says on p. {passage.page}"
        explanation += f" in its definition of {defined.name}." if defined else "."
    return QuestionOut(type=QuestionType.FILL_IN_BLANK, prompt=prompt, answer=answer, accepted=accepted,
                       explanation=explanation, page=passage.page, quote=text,
                       concepts=[concept.name] + ([defined.name] if defined else []))


def _neutral_articles(prompt: str, language: str) -> str:
    """ "An _____ is ..." would give away that the answer starts with a vowel: "A(n) _____ is ..."."""
    if language == "de":
        return prompt
    return re.sub(r"\b([Aa])n? (?=" + re.escape(BLANK) + ")", lambda m: f"{m.group(1)}(n) ", prompt)


def _accepted(answer: str, concept: _Concept, surfaces: list[str]) -> list[str]:
    """Other right answers: the concept's name, its aliases, other forms in the sentence."""
    seen = {normalise_answer(answer)}
    accepted = []
    for name in [concept.name, *surfaces, *concept.aliases]:
        if normalise_answer(name) not in seen:
            seen.add(normalise_answer(name))
            accepted.append(name)
    return accepted


def _strength(material: _Material, text: str, concept: _Concept) -> int:
    return max(rel.definition_strength(text, n, material.language) for n in concept.names)


# --- definitions: short answer and "which of these is ..." ---------------------------------------


@dataclass(frozen=True)
class _Definition:
    concept: _Concept
    passage: _Passage
    surface: str
    predicate: str  # "the diffusion of water across ..." (after "is"), or "" for "is called" sentences
    verb: str  # "is" / "are" / "ist" / "sind"
    subject: str  # "a closed Jordan curve in R3" for "... is called X", else ""


def _definitions(material: _Material) -> list[_Definition]:
    out = []
    for passage in material.passages:
        for concept in material.focus:
            spans = material.spans(passage.text, concept)
            if not spans:
                continue
            found = _subject_definition(material, passage, concept, spans) or _called_definition(material, passage, concept, spans)
            if found is not None:
                out.append(found)
    return out


def _subject_definition(material, passage, concept, spans) -> _Definition | None:
    """ "X is/are PREDICATE." with X the sentence's subject."""
    text = passage.text
    start, end = spans[0]
    if rel.definition_strength(text, text[start:end], material.language) < 3:
        return None
    verb = _VERB_AFTER_SUBJECT.match(text[end:])
    if verb is None:
        return None
    predicate = _CLAUSE_END.split(text[end + verb.end():])[0].rstrip(" .!,")
    if not _clear_predicate(material, predicate, concept):
        return None
    return _Definition(concept, passage, text[start:end], predicate, verb.group(1).lower(), "")


def _called_definition(material, passage, concept, spans) -> _Definition | None:
    """ "SUBJECT is called X." / "SUBJECT heißt X." with X ending the sentence."""
    text = passage.text
    start, end = spans[-1]
    if text[end:].strip() not in (".", "!"):
        return None
    match = _CALLED_BEFORE[material.language].match(text[:start])
    if match is None:
        return None
    subject = match.group("subject").strip(" ,")
    if not _clear_predicate(material, subject, concept):
        return None
    if subject[:1].isupper() and not (material.language == "de" or subject.split()[0].isupper()):
        subject = subject[:1].lower() + subject[1:]
    if material.language == "de" and subject.split()[0].lower() in _ARTICLES:
        subject = subject[:1].lower() + subject[1:]
    return _Definition(concept, passage, text[start:end], "", "", subject)


# Where a definition's predicate ends: "the site of photosynthesis | and is found in plant cells".
_CLAUSE_END = re.compile(
    r"\s*[;:]\s*|\s+[–—-]\s+|,\s+|\s+(?:and|but|or|und|aber|oder)\s+(?=(?:is|are|was|were|has|have|it|they|"
    r"ist|sind|hat|haben|es|sie)\b)|\s+(?:which|that|who|der|die|das|welche|welcher|welches)\s+(?=is|are|ist|sind)",
    re.IGNORECASE)
# Words that point back to other sentences ("the reverse process"): the predicate alone is unclear.
_ANAPHORA = frozenset(
    """reverse same opposite other latter former previous following above below such this that these those it
    they its their umgekehrte umgekehrten gleiche gleichen andere anderen obige obigen folgende folgenden dieser
    diese dieses jener jene""".split())


def _clear_predicate(material: _Material, words: str, concept: _Concept) -> bool:
    """Specific enough to answer and not giving the answer away."""
    stop = stopwords(material.language)
    tokens = re.findall(r"[^\W\d_]+", words)
    content = [w for w in tokens if w.lower() not in stop and len(w) > 2]
    if len(content) < 2 or len(words.split()) > 30 or any(w.lower() in _ANAPHORA for w in tokens):
        return False
    return not any(mentions(words, n, material.language) for n in concept.names)


def _short_answer_candidates(material: _Material) -> list[_Candidate]:
    out = []
    for definition in _definitions(material):
        concept, passage = definition.concept, definition.passage
        de = material.language == "de"
        if definition.predicate:
            prompt = (f"Welcher Begriff ist gemeint: {definition.predicate}?" if de
                      else f"What is the term for {definition.predicate}?")
        else:
            prompt = f"Wie heißt {definition.subject}?" if de else f"What is {definition.subject} called?"
        explanation = (f"Das Dokument definiert {concept.name} auf S. {passage.page}." if de
                       else f"The document defines {concept.name} on p. {passage.page}.")
        answer = _lower_initial(definition.surface, material.language, concept)
        question = QuestionOut(type=QuestionType.SHORT_ANSWER, prompt=prompt, answer=answer,
                               accepted=_accepted(answer, concept, [definition.surface]), explanation=explanation,
                               page=passage.page, quote=passage.text, concepts=[concept.name])
        out.append(_Candidate(question, concept.importance + 1.0, concept.key))
    return out


# --- multiple choice -----------------------------------------------------------------------------

_RELATION_QUESTIONS = {
    "en": {
        RelationType.IS_A: "According to the document, {s} is a kind of which of these?",
        RelationType.PART_OF: "According to the document, {s} is part of which of these?",
        RelationType.CAUSES: "According to the document, what does {s} lead to?",
        RelationType.EXAMPLE_OF: "According to the document, {s} is an example of which of these?",
        RelationType.CONTRASTS_WITH: "Which of these does the document contrast with {s}?",
    },
    "de": {
        RelationType.IS_A: "Was ist {s} laut dem Dokument?",
        RelationType.PART_OF: "Wovon ist {s} laut dem Dokument ein Teil?",
        RelationType.CAUSES: "Wozu führt {s} laut dem Dokument?",
        RelationType.EXAMPLE_OF: "Wofür ist {s} laut dem Dokument ein Beispiel?",
        RelationType.CONTRASTS_WITH: "Womit vergleicht das Dokument {s}?",
    },
}


def _choice_candidates(material: _Material) -> list[_Candidate]:
    out = []
    de = material.language == "de"
    for definition in _definitions(material):
        concept, passage = definition.concept, definition.passage
        if definition.predicate:
            prompt = (f"Welcher Begriff bezeichnet {definition.predicate}?" if de
                      else f"Which of these {definition.verb} {definition.predicate}?")
        else:
            prompt = (f"Welcher Begriff bezeichnet {definition.subject}?" if de
                      else f"Which term does the document use for {definition.subject}?")
        explanation = (f"Das Dokument definiert so {concept.name} (S. {passage.page})." if de
                       else f"This is how the document defines {concept.name} (p. {passage.page}).")
        question = _choice(material, prompt, concept, None, passage, explanation)
        if question is not None:
            out.append(_Candidate(question, concept.importance + 0.9, concept.key))
    for blank in _blank_candidates(material):
        question, concept = blank.question, material.concept(blank.question.concepts[0])
        if concept is None or not concept.focus or not usable_as_option(concept):
            continue
        prompt = (f"Welcher Begriff ergänzt den Satz? „{question.prompt}“" if de
                  else f"Which term completes the sentence? “{question.prompt}”")
        explanation = (f"So steht der Satz auf S. {question.page}." if de
                       else f"This is the sentence as it stands on p. {question.page}.")
        choice = _choice(material, prompt, concept, None, _Passage(question.page, question.quote), explanation)
        if choice is not None:
            out.append(_Candidate(choice, blank.score - 0.5, concept.key))
    templates = _RELATION_QUESTIONS[material.language]
    for source, target, relation in material.relations:
        template = templates.get(relation.type)
        if template is None or not source.focus or not usable_as_option(target) or not quotable(relation.quote):
            continue
        if not material.spans(relation.quote, target):
            continue
        explanation = f"{_capitalise(rel.describe(source.name, target.name, relation.type, material.language))}"
        explanation += f" (S. {relation.page})." if de else f" (p. {relation.page})."
        question = _choice(material, template.format(s=source.name), target, source,
                           _Passage(relation.page, " ".join(relation.quote.split())), explanation)
        if question is not None:
            score = source.importance + 0.6 + _difficulty_bonus(material, hard=True)
            out.append(_Candidate(question, score, source.key))
    return out


def _choice(material: _Material, prompt: str, answer: _Concept, subject: _Concept | None, passage: _Passage,
            explanation: str) -> QuestionOut | None:
    wanted = material.request.options_per_question - 1
    distractors = distractors_for(material, answer, subject=subject, quote=passage.text, count=wanted)
    if len(distractors) < wanted:
        return None  # without enough options of the answer's kind, another form is better
    options = [answer.display(), *(d.display() for d in distractors)]
    options.sort(key=lambda option: hashlib.sha256(f"{prompt}|{option}".encode()).hexdigest())
    return QuestionOut(type=QuestionType.MULTIPLE_CHOICE, prompt=prompt, options=options, answer=answer.display(),
                       explanation=explanation, page=passage.page, quote=passage.text,
                       concepts=[answer.name] + ([subject.name] if subject else []))


def distractors_for(material: _Material, answer: _Concept, *, subject: _Concept | None, quote: str,
                    count: int) -> list[_Concept]:
    """Up to `count` concepts of the answer's kind that are certainly wrong and clearly distinct."""
    taken = [answer] + ([subject] if subject else [])
    ranked = sorted(
        (c for c in material.concepts.values() if c not in taken and usable_as_option(c)),
        key=lambda c: (-kind_score(answer, c, material), -c.importance, c.name),
    )
    chosen: list[_Concept] = []
    for candidate in ranked:
        if len(chosen) == count:
            break
        if not same_shape(answer.name, candidate.name, material.language):
            continue  # a name among terms, a plural among singulars: it gives itself away
        if material.named_in(quote, candidate):
            continue  # the passage names it: it could read as right
        if subject is not None and candidate.key in material.linked.get(subject.key, set()):
            continue  # the material links it to the subject too
        if any(is_variant(n, m) for other in [*taken, *chosen] for n in other.names for m in candidate.names):
            continue
        chosen.append(candidate)
    return chosen


# --- true or false -------------------------------------------------------------------------------


def _true_false_candidates(material: _Material) -> list[_Candidate]:
    out = []
    de = material.language == "de"
    for source, target, relation in material.relations:
        if not source.focus or not quotable(relation.quote):
            continue
        quote = " ".join(relation.quote.split())
        passage = _Passage(relation.page, quote)
        typed = 0.3 if relation.type != RelationType.RELATED_TO else 0.0
        base = max(source.importance, target.importance) + typed
        lean_false = int(hashlib.sha256(quote.encode()).hexdigest(), 16) % 2 == 0
        truth = _statement(passage, quote, True, [source.name, target.name], de)
        out.append(_Candidate(truth, base + (0.0 if lean_false else 0.05), source.key))
        false = _swapped(material, passage, source, target)
        if false is not None:
            out.append(_Candidate(false, base + (0.05 if lean_false else 0.0), source.key))
    for definition in _definitions(material):
        quote = definition.passage.text
        truth = _statement(definition.passage, quote, True, [definition.concept.name], de)
        out.append(_Candidate(truth, definition.concept.importance, definition.concept.key))
    return out


def _statement(passage: _Passage, statement: str, true: bool, concepts: list[str], de: bool,
               explanation: str = "") -> QuestionOut:
    if not explanation:
        explanation = (f"Richtig: So steht es auf S. {passage.page}." if de
                       else f"True: this is what the document says on p. {passage.page}.")
    return QuestionOut(type=QuestionType.TRUE_FALSE, prompt=statement, options=[TRUE, FALSE],
                       answer=TRUE if true else FALSE, explanation=explanation, page=passage.page,
                       quote=passage.text, concepts=concepts)


def _swapped(material: _Material, passage: _Passage, source: _Concept, target: _Concept) -> QuestionOut | None:
    """The passage with the relation's target replaced by a concept of the same kind that the
    material never links to the source: a statement the passage shows to be false."""
    spans = material.spans(passage.text, target)
    if not spans or not usable_as_option(target):
        return None
    replacements = distractors_for(material, target, subject=source, quote=passage.text, count=1)
    if not replacements:
        return None
    other = replacements[0]
    statement = _replace(passage.text, spans[0], target, other, material.language)
    if material.named_in(statement, target):
        return None  # the target is named again elsewhere in the sentence
    de = material.language == "de"
    explanation = (f"Falsch: Auf S. {passage.page} steht hier {target.name}, nicht {other.name}." if de
                   else f"False: the document says {target.name} here, not {other.name} (p. {passage.page}).")
    return _statement(passage, statement, False, [source.name, target.name, other.name], de, explanation)


def _replace(text: str, span: tuple[int, int], target: _Concept, other: _Concept, language: str) -> str:
    start, end = span
    surface = text[start:end]
    word = other.name
    if language != "de":
        if surface.lower().endswith("s") and not target.name.lower().endswith("s") and not word.lower().endswith("s"):
            word = _plural(word)
        if surface[:1].isupper() and not word[:1].isupper():
            word = word[:1].upper() + word[1:]
        elif not surface[:1].isupper() and start > 0 and word[:1].isupper() and word.split()[0][1:].islower():
            word = word[:1].lower() + word[1:]
    before = text[:start]
    if language != "de":
        article = re.search(r"(?:^|\s)(an?)\s+$", before, re.IGNORECASE)
        if article:
            fixed = "an" if word[:1].lower() in "aeiou" else "a"
            if article.group(1)[0].isupper():
                fixed = fixed.capitalize()
            before = before[: article.start(1)] + fixed + before[article.end(1):]
    return before + word + text[end:]


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _lower_initial(surface: str, language: str, concept: _Concept) -> str:
    """ "The chloroplast is ..." -> "chloroplast"; names and German nouns keep their capital."""
    if language == "de" or not surface[:1].isupper() or concept.name[:1].isupper():
        return surface
    return surface[:1].lower() + surface[1:]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
