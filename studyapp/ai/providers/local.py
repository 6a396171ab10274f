"""The `local` provider: offline, deterministic concept graphs and explanations (English, German).

No network, no model download: concepts come from studyapp.ai.keyphrases (noun-phrase candidates
scored by position, frequency, headings and definitions), improved here with what a chunk shows
about document structure: phrases the chunk *defines* ("Osmosis is the diffusion of ...", "... heißt
Hausdorffraum") and phrases that head a section rank higher; numbers, symbols, formulas, URLs and
the document's own scaffolding ("Definition 3", "Beweis", "Review questions") are dropped.
Relations come from the sentences that mention two concepts, typed by studyapp.ai.relations, each
with its page and the sentence quoted verbatim from that page. Explanations are written from the
relation path and the evidence passages, citing pages.

Usage is reported as zero tokens. `Usage` records tokens billed and rate-limited by a model
provider (the admin's "tokens" column, the JobRun's usage); the local provider consumes none, and an
estimate would show a cost that nobody pays. The cache still marks cached calls (`cached=True`).

Stateless and thread-safe: every call works on its own locals; the only shared data are read-only
tables, lru-cached compiled patterns, and a lock around the keyphrase extractor (see below).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from wordfreq import zipf_frequency

from studyapp.ai import relations as rel
from studyapp.ai.concept_names import lost_apostrophe
from studyapp.ai.keyphrases import extract_keyphrases, normalise_phrase
from studyapp.ai.providers.base import ProviderCall
from studyapp.ai.schemas import (
    ChunkConcepts, ChunkInput, Citation, ConceptDescription, ConceptInput, ConceptOut, ExplainInput,
    ExplanationOut, QuizInput, QuizOut, RelationOut, RelationType, Segment, Usage,
)
from studyapp.ai.text import SUPPORTED_LANGUAGES, guess_language, sentences, stopwords

MAX_RELATIONS_PER_CHUNK = 40
MAX_RELATIONS_PER_PAIR = 3
MAX_RELATED_GAP_WORDS = 20  # a bare "related_to" needs the two mentions this close
MAX_LOOSE_PER_SENTENCE = 3  # a sentence that lists many concepts yields at most this many related_to
MAX_QUOTE_CHARS = 400
MAX_DESCRIPTION_CHARS = 300
MAX_ALIASES = 5
CANDIDATE_POOL = 4  # ask the keyphrase extractor for this many times max_concepts, then re-rank
# Re-ranking: added to the extractor's score (0..1) for a concept the chunk defines ("X is a ..."),
# one named in a section heading, and per doubling of the statements that mention it.
DEFINITION_BOOST = 0.25
HEADING_BOOST = 0.10
FREQUENCY_BOOST = 0.05
EVERYDAY_ZIPF = 5.0  # "time" 6.3, "information" 5.4, "model" 5.1; "cell" 4.9, "membrane" 3.8
STRUCTURE_SENTENCES = 30  # a chunk with fewer statements gets a proportionally smaller boost

# The scaffolding of lecture notes and papers: never a concept, and cut from the ends of phrases
# ("Topologische Räume Definition" -> "Topologische Räume").
_STRUCTURE_WORDS = frozenset(
    """
    definition definitions def bemerkung bemerkungen bem beispiel beispiele bsp satz sätze lemma lemmata
    beweis beweise korollar folgerung proposition theorem theorems proof proofs remark remarks example
    examples figure figures fig abbildung abbildungen tabelle tabellen table tables übung übungen
    übungsaufgabe übungsaufgaben aufgabe aufgaben exercise exercises lösung lösungen solution solutions
    inhaltsverzeichnis stichwortverzeichnis symbolverzeichnis abkürzungsverzeichnis literaturverzeichnis
    bildquellen literatur kapitel chapter chapters section sections abschnitt abschnitte notes note
    lecture lectures vorlesung vorlesungen introduction einleitung summary zusammenfassung question
    questions frage fragen references index seite seiten page pages week woche beh vor bew sei seien
    gilt dann betrachte beobachtung beobachtungen notation anmerkung hinweis appendix anhang contents
    review overview
    """.split()
)
# Single words too vague to be a key idea on their own.
_GENERIC_WORDS = frozenset(
    """
    idea ideas property properties element elements term terms case cases pair pairs way ways thing things
    kind kinds type types form forms part parts lot unit units number numbers fact facts question questions
    eigenschaft eigenschaften element elemente elementen begriff begriffe fall fälle paar paare weise art
    arten sinne hilfe grund idee ideen frage fragen ende anfang folgenden teil teile zahl zahlen
    """.split()
)
_FORMULA_CHARS = re.compile(r"[=<>∈∉⊆⊂⊇⊃∪∩→←↦⇒⇔⇐∀∃∑∏∫√≤≥±×÷∂∇∞^_{}|\\/~∘◦≅≃≈≠⊕⊗]")
_URL = re.compile(r"://|\bwww\.|@|\.(?:com|org|net|de|html?)\b", re.IGNORECASE)
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9-]{2,}s?$")
# A numbered section or a theorem-like block glued to the sentence after it by chunking:
# "2. The plasma membrane The plasma membrane is ...", "Definition 12 Seien X, Y ...".
_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVX]+\.|\(?[a-z]\)|\(?\d{1,2}\)|\([ivx]{1,4}\))\s+")
# Where one statement ends inside a "sentence" of lecture notes: bullets, proof ends, enumerations
# ("a) ...", "2) ..."), theorem-like labels and running page heads in capitals ("WEGE UND KNOTEN").
_PIECE_BREAK = re.compile(
    r"\s*[■•▪◦●□]\s*"
    r"|\s+(?=(?:Definition|Bemerkung|Beispiel|Satz|Lemma|Korollar|Folgerung|Beweis|Aufgabe|Proposition|Theorem|"
    r"Remark|Example|Corollary|Proof|Exercise)\s+\d)"
    r"|\s+(?=\(?(?:[a-z]|\d{1,2}|[ivx]{1,4})\)\s)"
    r"|(?:^|\s+)(?:\d+\s+)?(?:\d+(?:\.\d+)*\.?\s+)?(?:[A-ZÄÖÜ]{2,}(?:\s+[A-ZÄÖÜ]{2,})+|[A-ZÄÖÜ]{7,})(?=\s|$)\s*"
)
_MIN_PIECE_WORDS = 3
_BLOCK_LABEL = re.compile(
    r"^(?:(?:Definition|Def\.|Bemerkung|Bem\.|Beispiel|Satz|Lemma|Korollar|Folgerung|Proposition|Theorem|"
    r"Remark|Example|Corollary|Proof|Beweis|Beobachtungen?|Notation|Aufgabe|Exercise|Übung)(?:\s+\d+(?:\.\d+)*)?"
    r"(?:\s*\([^()]{1,60}\))?\s*[:.]?\s+)+")
_SENTENCE_OPENERS = frozenset(
    """
    The A An This These Those It In All Every Each Some Many Most We One For When If Unlike Like Both
    Der Die Das Ein Eine Einer Es Sei Seien Wir Man Für Jede Jeder Jedes Im Ist Sind Dann Diese Dieser
    Dieses Betrachte Gegeben Nach Mit Alle Zu
    """.split()
)
_PAGE_WORD = {"en": "p.", "de": "S."}


@dataclass
class _Concept:
    name: str
    score: float
    first: int
    aliases: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    description: str = ""
    defined: int = 0
    in_heading: bool = False


@dataclass(frozen=True)
class _Sentence:
    page: str
    text: str  # whitespace-normalised, as on the page
    body: str  # without a glued heading / block label in front
    heading: str  # the glued heading, if any


class LocalProvider:
    """Offline and deterministic. Safe to share between threads."""

    name = "local"
    languages = frozenset(SUPPORTED_LANGUAGES)

    def __init__(self, model: str = "local-1"):
        self.model = model

    # --- extract_concepts ---------------------------------------------------------------------

    def extract_concepts(self, chunk: ChunkInput) -> ProviderCall[ChunkConcepts]:
        segments = [s for s in chunk.segments if s.text.strip()]
        text = "\n\n".join(s.text for s in segments)
        if not text.strip() or chunk.max_concepts <= 0:
            return ProviderCall(ChunkConcepts())
        language = _language(chunk.language, text)
        units = _sentences(segments, language)
        concepts, phrases = _concepts(text, units, segments, chunk.max_concepts, language)
        relations = _relations(concepts, units, language, phrases)
        output = ChunkConcepts(
            concepts=[ConceptOut(name=c.name, aliases=c.aliases, description=c.description,
                                 importance=round(c.score, 4), pages=c.pages) for c in concepts],
            relations=relations,
        )
        return ProviderCall(output, Usage())

    # --- describe_concept ---------------------------------------------------------------------

    def describe_concept(self, concept: ConceptInput) -> ProviderCall[ConceptDescription]:
        names = [concept.name, *concept.aliases]
        language = _language(concept.language, " ".join(e.quote for e in concept.evidence) or concept.name)
        best, best_strength = "", 0
        for evidence in concept.evidence:
            body = _split_heading(" ".join(evidence.quote.split()), language)[1]
            strength = max(rel.definition_strength(body, n, language) for n in names)
            if strength > best_strength:
                best, best_strength = body, strength
        if not best:
            best = _subject_sentence(concept, names, language)
        if best:
            description = _shorten(best, MAX_DESCRIPTION_CHARS)
        else:
            description = (f"{concept.name}: ein Kernbegriff dieses Dokuments." if language == "de"
                           else f"{concept.name}: a key idea of this document.")
        return ProviderCall(ConceptDescription(description=description), Usage())

    # --- explain_connection -------------------------------------------------------------------

    def explain_connection(self, request: ExplainInput) -> ProviderCall[ExplanationOut]:
        sample = " ".join([*(s.quote for s in request.path), *(p.quote for p in request.passages)])
        language = _language(request.language, sample or f"{request.source} {request.target}")
        writer = _Explanation(language)
        source, target = request.source, request.target
        steps = [s for s in request.path if s.source and s.target]
        if steps:
            via = _waypoints(source, steps)
            if via:
                writer.say(_path_intro(source, target, via, language))
            for step in steps:
                writer.say(_capitalise(rel.describe(step.source, step.target, step.type, language)),
                           quote=step.quote, page=step.page)
        both = [p for p in request.passages if _mentions(p.quote, source, language) and _mentions(p.quote, target, language)]
        if both:
            if not steps:
                writer.say(_together_intro(source, target, language))
            for passage in [p for p in both if not writer.cited(p.quote)][:3]:
                writer.say(_also(language) if steps else "", quote=passage.quote, page=passage.page)
        if not steps and not both:
            writer.say(_no_link(source, target, request.passages, language, writer))
        return ProviderCall(ExplanationOut(text=writer.text(), citations=writer.citations), Usage())


    # --- write_questions ------------------------------------------------------------------------

    def write_questions(self, request: QuizInput) -> ProviderCall[QuizOut]:
        from studyapp.ai.questions import write_questions

        return ProviderCall(write_questions(request), Usage())


_ARTICLE = re.compile(r"^(?:the|a|an|der|die|das|den|dem|des|ein|eine|einen|einem|einer)\s+", re.IGNORECASE)


def _subject_sentence(concept: ConceptInput, names: list[str], language: str) -> str:
    """Failing a definition: the shortest passage that is about the concept (it is the sentence's
    subject: "Guards check ...", "The trace tree grows ..."), never a sentence that merely names it."""
    about = []
    for evidence in concept.evidence:
        body = _split_heading(" ".join(evidence.quote.split()), language)[1]
        opening = _ARTICLE.sub("", body)
        if any(span[0] == 0 for name in names for span in rel.find_mentions(opening, name, language)):
            about.append(body)
    return min(about, key=len) if about else ""


def statements(page_text: str, language: str) -> list[str]:
    """A page's statements as this provider reads them: sentences split at bullets and
    enumerations, without a heading glued in front. Each is the page's own text (whitespace
    normalised), so it can be quoted and checked against the page."""
    return [unit.body for unit in _sentences([Segment(page="", text=page_text)], language)]


# --- concepts ----------------------------------------------------------------------------------


def _language(given: str | None, text: str) -> str:
    return given if given in ("en", "de") else guess_language(text)


def _sentences(segments, language: str) -> list[_Sentence]:
    out = []
    for segment in segments:
        for sentence in sentences(segment.text, language):
            for piece in _pieces(sentence.text):
                heading, body = _split_heading(piece, language)
                if len(body.split()) >= _MIN_PIECE_WORDS:
                    out.append(_Sentence(segment.page, piece, body, heading))
    return out


def _pieces(text: str) -> list[str]:
    """The statements in one sentence of the splitter (verbatim substrings, so quotable)."""
    pieces, start = [], 0
    for match in _PIECE_BREAK.finditer(text):
        if match.start() > start:
            pieces.append(text[start:match.start()].strip())
        start = max(start, match.end())
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _split_heading(text: str, language: str) -> tuple[str, str]:
    """("2. The plasma membrane", "The plasma membrane is a thin layer ...") from a glued sentence."""
    rest, heading = text, ""
    numbered = _NUMBERING.match(rest)
    if numbered:
        rest = rest[numbered.end():]
    label = _BLOCK_LABEL.match(rest)
    if label:
        return text[: len(text) - len(rest) + label.end()].strip(), rest[label.end():]
    words = rest.split(" ")
    # The heading's words repeated: "The cell The cell is ..."
    for k in range(1 if numbered else 2, min(8, len(words) // 2) + 1):
        if [w.lower() for w in words[:k]] == [w.lower() for w in words[k : 2 * k]]:
            return text[: len(text) - len(rest)] + " ".join(words[:k]), " ".join(words[k:])
    if numbered and len(words) > 3:
        # A short title, then a capitalised word that opens the sentence: "3. Organelles An organelle is".
        for k in range(1, min(9, len(words) - 2)):
            word = words[k]
            opener = word in _SENTENCE_OPENERS or (language != "de" and word[:1].isupper() and not _title_case(words[:k]))
            if opener and words[k - 1][-1:].isalnum() and _echoes(words[:k], words[k:]):
                return text[: len(text) - len(rest)] + " ".join(words[:k]), " ".join(words[k:])
    return heading, text


def _echoes(title: list[str], body: list[str]) -> bool:
    """A section's first sentence takes up its title ("3. Organelles An organelle is ..."); a
    numbered list item ("1. Cells need ATP to grow.") has no title to take up."""
    stems = {w.lower()[:5] for w in body}
    return any(w.lower()[:5] in stems for w in title if len(w) > 3 or w.isupper())


def _title_case(words: list[str]) -> bool:
    """Title Case headings ("Energy In The Cell") would make every word look like an opener."""
    content = [w for w in words if len(w) > 3]
    return len(content) >= 2 and all(w[:1].isupper() for w in content)


def _concepts(text: str, units: list[_Sentence], segments, max_concepts: int,
              language: str) -> tuple[list[_Concept], list[str]]:
    """The chunk's key concepts, best first, with importance 0..1 (the best is 1.0), and every
    candidate phrase considered (to tell "cell" from the "animal cells" it is part of).

    The keyphrase extractor proposes a pool of candidates; each is re-scored with what the chunk
    shows about it as a whole: whether it is defined here, named in a heading, and in how many
    statements it occurs (single-word terms such as "cell" or "ATP" are central in lecture notes
    though rarely first for a phrase ranker tuned on abstracts).
    """
    pool = extract_keyphrases(_keyphrase_text(segments, units), top=max_concepts * CANDIDATE_POOL,
                              language=language)
    stop = stopwords(language)
    # A chunk's own evidence counts in full once it has some structure to show; in a short
    # abstract every term is mentioned once or twice and the extractor's ranking already has it.
    weight = min(1.0, len(units) / STRUCTURE_SENTENCES)
    found: dict[str, _Concept] = {}
    phrases: list[str] = []
    headings = " ".join(u.heading for u in units if u.heading)
    for keyphrase in pool:
        name = _clean_name(keyphrase.phrase, stop)
        name = _display_name(name, text, units, language) if name else ""
        if not name or _broken_word(name, text) or _notation(name, text):
            continue
        phrases.append(name)
        concept = _Concept(name=name, score=keyphrase.score, first=keyphrase.first_offset)
        concept.pages = _pages(name, segments, language)
        if not concept.pages:
            continue
        concept.description, concept.defined = _definition(name, units, language)
        concept.in_heading = bool(headings) and bool(rel.find_mentions(headings, name, language))
        if _everyday_word(name, language) and not concept.defined and not concept.in_heading:
            continue  # "time", "information", "people": no key idea unless the document defines it
        if language == "de":
            concept.name = _base_form(concept, text, language)
        key = normalise_phrase(concept.name, language)
        if key in found or _variant_of(concept.name, found.values(), language):
            continue  # a variant of a better-ranked candidate ("mitochondria" after "mitochondrion")
        mentions = sum(1 for u in units if rel.find_mentions(u.body, concept.name, language))
        concept.score += weight * (DEFINITION_BOOST * min(concept.defined, 3) / 3 + HEADING_BOOST * concept.in_heading
                                   + FREQUENCY_BOOST * math.log2(1 + mentions))
        found[key] = concept
    ranked = sorted(found.values(), key=lambda c: (-c.score, c.first, c.name))[:max_concepts]
    best = max((c.score for c in ranked), default=1.0) or 1.0
    for concept in ranked:
        concept.score = min(1.0, max(0.0, concept.score / best))
        concept.aliases = _aliases(concept.name, text, language)
    return ranked, phrases


def _everyday_word(name: str, language: str) -> bool:
    """A single word this common in general language (wordfreq's Zipf scale) is too vague to be a
    key idea on its own; a term, an acronym or a phrase is not."""
    return " " not in name and not name.isupper() and zipf_frequency(name.lower(), language) >= EVERYDAY_ZIPF


def _variant_of(name: str, concepts, language: str) -> bool:
    for other in concepts:
        pattern = rel.mention_pattern(other.name, language)
        if pattern is not None and pattern.fullmatch(name):
            return True
        pattern = rel.mention_pattern(name, language)
        if pattern is not None and pattern.fullmatch(other.name):
            return True
    return False


def _keyphrase_text(segments, units: list[_Sentence]) -> str:
    """The chunk as the keyphrase extractor should see it: one statement a line, headings that
    chunking glued to a sentence on their own line again (so they count as headings)."""
    if len(segments) == 1 and not any(u.heading for u in units):
        return segments[0].text
    by_page: dict[str, list[str]] = {}
    for unit in units:
        lines = by_page.setdefault(unit.page, [])
        if unit.heading:
            lines.append(unit.heading)
        lines.append(unit.body)
    return "\n\n".join("\n".join(lines) for lines in by_page.values())


def _clean_name(phrase: str, stop: frozenset[str]) -> str:
    """The phrase without scaffolding words at its ends, or "" if it is junk."""
    words = phrase.split()
    if any(lost_apostrophe(word, stop) for word in words):
        return ""  # "crazy ones heres", "song thats": a clause whose apostrophes the PDF lost
    while words and (words[0].lower() in _STRUCTURE_WORDS or words[0].lower() in stop or _is_number(words[0])):
        words.pop(0)
    while words and (words[-1].lower() in _STRUCTURE_WORDS or words[-1].lower() in stop or _is_number(words[-1])
                     or (len(words) > 1 and re.match(r"[A-ZÄÖÜ]{2}[a-zäöüß]", words[-1]))):
        words.pop()  # ... "Topologie TEuklid": a subscripted symbol after the noun
    name = " ".join(words)
    if not name or len(name) > 120 or _FORMULA_CHARS.search(name) or _URL.search(name):
        return ""
    if len(words) == 1 and name.lower() in _GENERIC_WORDS:
        return ""
    if sum(c.isalpha() for c in name) < 2 or any(_is_symbol(w) for w in words):
        return ""
    return name


def _display_name(name: str, text: str, units: list[_Sentence], language: str) -> str:
    """Undo capitals that come from running heads and headings; "" for German non-nouns."""
    words = name.split()
    if name.isupper() and any(len(w) > 3 for w in words):  # "ÜBERLAGERUNGEN", "WEGE UND KNOTEN"
        pattern = rel.mention_pattern(name, language)
        forms = [m.group() for m in pattern.finditer(text) if not m.group().isupper()] if pattern else []
        if forms:
            words = max(forms, key=lambda f: (forms.count(f), -forms.index(f))).split()
        elif not any(len(w) > 5 for w in words):
            pass  # an acronym such as "NASA"
        elif language == "de":
            words = [w.lower() for w in words[:-1]] + [words[-1].capitalize()]
        else:
            words = [w.lower() for w in words]
    if language != "de":
        words = [w.lower() if _title_capital(w, units) else w for w in words]
    if language == "de":
        if len(words) == 1 and not _german_noun(words[0], text):
            return ""
        if len(words) > 1 and words[0][:1].isupper() and not words[0].isupper():
            first = rel.mention_pattern(words[0].lower(), language)
            if first is not None and any(m.group()[:1].islower() for m in first.finditer(text)):
                words[0] = words[0].lower()  # "Topologische Räume" (a heading) -> "topologische Räume"
    return " ".join(words)


def _notation(name: str, text: str) -> bool:
    """Capitals that are not acronyms: "PQR" (a triangle of the points P, Q, R), "TX", or a word of
    a running page head ("WEGE UND KNOTEN") that the text never writes in lower case."""
    for word in name.split():
        letters = re.sub(r"[^A-ZÄÖÜ]", "", word)
        if not word.isupper() or len(letters) < 2:
            continue
        variables = [c for c in letters if c not in "AI"]
        if variables and all(re.search(r"(?<![\w])" + c + r"(?![\w])", text) for c in variables):
            return True
        spots = [m.span() for m in re.finditer(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text)]
        if len(letters) >= 4 and spots and all(_in_capital_run(text, a, b) for a, b in spots):
            return True
    return False


def _in_capital_run(text: str, start: int, end: int) -> bool:
    before = re.search(r"([^\W\d_]+)\W*$", text[max(0, start - 30):start])
    after = re.match(r"\W*([^\W\d_]+)", text[end:end + 30])
    return any(m and m.group(1).isupper() and len(m.group(1)) >= 2 for m in (before, after))


def _broken_word(name: str, text: str) -> bool:
    """'stetige Abbil' from 'stetige Abbil- dung': every occurrence ends in a line-break hyphen."""
    last = name.split()[-1]
    ends = [m.end() for m in re.finditer(r"(?<!\w)" + re.escape(last) + r"(?!\w)", text)]
    return bool(ends) and all(re.match(r"-\s+[a-zäöüß]", text[e:e + 4]) for e in ends)


def _base_form(concept: _Concept, text: str, language: str) -> str:
    """A German concept's base form among the forms in the text: the singular head noun (the
    shortest: "Teilmenge", not "Teilmengen"), then the form its definition uses ("Ein topologischer
    Raum ist ..."), then the most frequent one."""
    pattern = rel.mention_pattern(concept.name, language)
    if pattern is None:
        return concept.name
    n_words = len(concept.name.split())
    forms = [" ".join(m.group().split()) for m in pattern.finditer(text)]
    forms = [f for f in forms if not f.isupper() and len(f.split()) == n_words] or [concept.name]
    # The shortest head is the singular ("Teilmenge" < "Teilmengen") when it is common enough; a
    # rare shorter form is another word ("Knot", English, beside "Knoten").
    common = [f for f in forms if forms.count(f) >= max(2, len(forms) // 4)] or forms
    shortest = min(len(f.split()[-1]) for f in common)
    singular = [f for f in common if len(f.split()[-1]) == shortest]
    defined = [f for f in singular if concept.description and f in concept.description]
    best = defined[0] if defined else max(singular, key=lambda f: (singular.count(f), -singular.index(f)))
    words = best.split()
    if n_words > 1 and words[0][:1].isupper() and not concept.name[:1].isupper():
        words[0] = words[0].lower()  # sentence-initial capital: "Topologische Räume sind ..."
    return " ".join(words)


def _title_capital(word: str, units: list[_Sentence]) -> bool:
    """True for an English word capitalised only in titles/headings or at a sentence start
    ("Cell Biology"), not a name ("Golgi") or an acronym ("DNA")."""
    if not word[:1].isupper() or not word[1:].islower():
        return False
    pattern = re.compile(r"(?<=[a-z,;]) " + re.escape(word) + r"(?!\w)")
    for unit in units:
        if pattern.search(unit.body) and not _title_like(unit.body):
            return False
    return True


def _title_like(text: str) -> bool:
    content = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) > 3]
    return bool(content) and sum(w[0].isupper() for w in content) * 2 >= len(content)


def _german_noun(word: str, text: str) -> bool:
    """German nouns are capitalised *inside* sentences too; "Zeigen Sie", "Konkret:" are not nouns."""
    if not word[:1].isupper():
        return False
    if word.isupper():
        return True  # an acronym
    return bool(re.search(r"[a-zäöüß,]\s+" + re.escape(word) + r"(?!\w)", text))


def _is_number(word: str) -> bool:
    return bool(re.fullmatch(r"[\d.,:%()-]+|[ivxlc]+\.?|[IVXLC]+\.?", word))


def _is_symbol(word: str) -> bool:
    """Single letters, "U1", "Rn", "TX": the names of mathematical objects, not concepts."""
    letters = re.sub(r"[-'’]", "", word)
    if _ACRONYM.match(letters):
        return False  # "DNA", "ATP", "CO2", "COVID-19"
    if len(letters) <= 2 or any(c.isdigit() for c in letters):
        return True
    if re.match(r"[A-ZÄÖÜ]{2}[a-zäöüß]", letters):
        return True  # "TDiskret", "TEuklid": a symbol with its subscript
    inner_caps = sum(c.isupper() for c in letters[1:])
    return inner_caps >= 1 and not letters.isupper() and inner_caps * 3 >= len(letters)


def _pages(name: str, segments, language: str) -> list[str]:
    pages: list[str] = []
    for segment in segments:
        if segment.page not in pages and rel.find_mentions(segment.text, name, language):
            pages.append(segment.page)
    return pages


def _definition(name: str, units: list[_Sentence], language: str) -> tuple[str, int]:
    """The chunk's clearest definitional sentence for `name`, and how clear it is (0-3)."""
    best, strength = "", 0
    for unit in units:
        value = rel.definition_strength(unit.body, name, language)
        if value > strength:
            best, strength = unit.body, value
            if value == 3:
                break
    return (_shorten(best, MAX_DESCRIPTION_CHARS) if strength >= 2 else ""), strength


def _aliases(name: str, text: str, language: str) -> list[str]:
    """Abbreviations defined in the text and the inflected forms that occur, e.g. "Räume"."""
    aliases: list[str] = []
    lowered = {name.lower()}

    def add(alias: str) -> None:
        alias = " ".join(alias.split())
        if alias and alias.lower() not in lowered and len(aliases) < MAX_ALIASES:
            lowered.add(alias.lower())
            aliases.append(alias)

    for form in _abbreviations(name, text, language):
        add(form)
    pattern = rel.mention_pattern(name, language)
    if pattern is not None:
        forms: dict[str, int] = {}
        for match in pattern.finditer(text):
            surface = " ".join(match.group().split())
            if language != "de" and not surface.isupper():
                surface = surface.lower() if not any(c.isupper() for c in name) else surface
            forms.setdefault(surface, len(forms))
        for surface in sorted(forms, key=forms.get):
            if not surface.isupper() or name.isupper():  # not the running head "TOPOLOGISCHE RÄUME"
                add(surface)
    return aliases


def _abbreviations(name: str, text: str, language: str) -> list[str]:
    """'Deoxyribonucleic acid (DNA)' gives 'DNA' for the long name and the long form for 'DNA'."""
    found = []
    pattern = rel.mention_pattern(name, language)
    if pattern is None:
        return found
    for match in pattern.finditer(text):
        after = re.match(r"\s*\(\s*([A-Z][A-Za-z0-9&-]{1,9})\s*[),;]", text[match.end():])
        if after and _initials_match(after.group(1), match.group().split()):
            found.append(after.group(1))
    if _ACRONYM.match(name):
        for match in re.finditer(r"((?:[\w-]+\s+){1,6})\(\s*" + re.escape(name) + r"\s*\)", text):
            words = match.group(1).split()
            for k in range(len(words), 0, -1):
                if _initials_match(name, words[-k:]):
                    found.append(" ".join(words[-k:]))
                    break
    return found


def _initials_match(acronym: str, words: list[str]) -> bool:
    """Schwartz & Hearst's test: the acronym's letters occur in order in the long form, the first
    at its start ("DNA" in "deoxyribonucleic acid", "ATP" in "adenosine triphosphate")."""
    short = acronym[:-1] if acronym.endswith("s") and acronym[:-1].isupper() else acronym
    short = [c for c in short.lower() if c.isalnum()]
    long = " ".join(words).lower()
    if len(short) < 2 or not long or long[0] != short[0]:
        return False
    li = len(long) - 1
    for si in range(len(short) - 1, -1, -1):
        c = short[si]
        while li >= 0 and (long[li] != c or (si == 0 and li > 0 and long[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return False
        li -= 1
    return True


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


# --- relations ---------------------------------------------------------------------------------


def _relations(concepts: list[_Concept], units: list[_Sentence], language: str,
               phrases: list[str]) -> list[RelationOut]:
    names = [c.name for c in concepts]
    # Longer phrases ending in a concept ("animal cells" for "cell"): a mention inside them is not
    # a mention of the concept. (Phrases that only continue one, "cellular respiration breaks",
    # are often tagging slips and are not used.)
    extra = [p for p in phrases if p not in names and any(
        span[1] == len(p) and span[0] > 0 for n in names for span in rel.find_mentions(p, n, language))]
    typed: list[RelationOut] = []
    loose: list[RelationOut] = []
    per_pair: dict[frozenset, int] = {}
    seen: set[tuple] = set()
    for unit in units:
        present = _present(unit.body, names, extra, language)
        if len(present) < 2:
            continue
        blockers = [p for p in [*names, *extra] if rel.find_mentions(unit.body, p, language)]
        loose_here = 0
        for i, a in enumerate(present):
            for b in present[i + 1:]:
                others = [n for n in blockers if n not in (a, b)]
                found = rel.classify_relation(unit.body, a, b, language, others=others)
                if found is None:
                    continue
                quote = _quote(unit.body, found.source, found.target, language)
                if found.type == RelationType.RELATED_TO:
                    if loose_here >= MAX_LOOSE_PER_SENTENCE or not _close(unit.body, a, b, language):
                        continue
                    loose_here += 1
                key = (found.source, found.target, found.type, quote)
                if key in seen:
                    continue
                seen.add(key)
                out = RelationOut(source=found.source, target=found.target, type=found.type,
                                  description=found.description, page=unit.page, quote=quote)
                (loose if found.type == RelationType.RELATED_TO else typed).append(out)
    chosen = []
    for relation in typed + loose:
        pair = frozenset((relation.source, relation.target))
        if per_pair.get(pair, 0) >= MAX_RELATIONS_PER_PAIR:
            continue
        per_pair[pair] = per_pair.get(pair, 0) + 1
        chosen.append(relation)
        if len(chosen) >= MAX_RELATIONS_PER_CHUNK:
            break
    return chosen


def _present(sentence: str, names: list[str], extra: list[str], language: str) -> list[str]:
    """The concepts `sentence` mentions on their own: not only inside a longer phrase ("cell" in
    "animal cells" or "cell division")."""
    spans = {n: rel.find_mentions(sentence, n, language) for n in [*names, *extra]}
    blocked = [s for n in spans for s in spans[n]]
    present = []
    for name in names:
        if any(not any(b[0] <= s[0] and s[1] <= b[1] and b[1] - b[0] > s[1] - s[0] for b in blocked)
               for s in spans[name]):
            present.append(name)
    return present


def _close(sentence: str, a: str, b: str, language: str) -> bool:
    spans_a, spans_b = rel.find_mentions(sentence, a, language), rel.find_mentions(sentence, b, language)
    gaps = [len(sentence[min(x[1], y[1]):max(x[0], y[0])].split()) for x in spans_a for y in spans_b]
    return bool(gaps) and min(gaps) <= MAX_RELATED_GAP_WORDS


def _quote(body: str, a: str, b: str, language: str) -> str:
    """The sentence as on the page; a long one is cut (at spaces) to the stretch naming both."""
    if len(body) <= MAX_QUOTE_CHARS:
        return body
    spans = rel.find_mentions(body, a, language)[:1] + rel.find_mentions(body, b, language)[:1]
    if not spans:
        return body[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0]
    start = max(0, min(s[0] for s in spans) - 120)
    end = min(len(body), max(s[1] for s in spans) + 120)
    if start > 0:
        start = body.find(" ", start) + 1 or start
    if end < len(body):
        end = body.rfind(" ", start, end) if body.rfind(" ", start, end) > start else end
    return body[start:end].strip()


# --- explanations ------------------------------------------------------------------------------


class _Explanation:
    """Collects sentences with inline page citations, and the citations themselves."""

    def __init__(self, language: str):
        self.language = language
        self.parts: list[str] = []
        self.citations: list[Citation] = []

    def say(self, lead: str, *, quote: str = "", page: str = "") -> None:
        """Add `lead`, and the quote with its inline page citation; cite the quote verbatim."""
        cite = f" ({_PAGE_WORD[self.language]} {page})" if page else ""
        if quote:
            opening, closing = ("„", "“") if self.language == "de" else ("“", "”")
            body = f"{opening}{_shorten(quote, MAX_QUOTE_CHARS).rstrip('.')}{closing}{cite}."
            separator = " – " if ":" in lead else ": "  # German templates use colons themselves
            self.parts.append(f"{lead}{separator}{body}" if lead else body)
            self.cite(page, quote)
        elif lead:
            self.parts.append(lead if lead.endswith((".", ":")) else lead + ".")

    def cited(self, quote: str) -> bool:
        return any(c.quote == quote for c in self.citations)

    def cite(self, page: str, quote: str) -> None:
        if page and not any(c.page == page and c.quote == quote for c in self.citations):
            self.citations.append(Citation(page=page, quote=quote))

    def text(self) -> str:
        return " ".join(self.parts)


def _waypoints(source: str, steps) -> list[str]:
    """The concepts a path walks through between its two ends (steps may point either way)."""
    node, via = source.lower(), []
    for step in steps[:-1]:
        node = step.target if step.source.lower() == node else step.source
        via.append(node)
        node = node.lower()
    return via


def _mentions(text: str, name: str, language: str) -> bool:
    return bool(rel.find_mentions(text, name, language))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _path_intro(source: str, target: str, via: list[str], language: str) -> str:
    if language == "de":
        if via:
            return f"{_capitalise(source)} und {target} hängen im Dokument über {_join(via, 'und')} zusammen"
        return f"Das Dokument verbindet {source} direkt mit {target}"
    if via:
        return f"{_capitalise(source)} connects to {target} through {_join(via, 'and')} in this document"
    return f"The document links {source} directly to {target}"


def _together_intro(source: str, target: str, language: str) -> str:
    if language == "de":
        return f"Das Dokument nennt {source} und {target} gemeinsam, ohne den Zusammenhang genauer zu benennen:"
    return f"The document mentions {source} and {target} together without naming the kind of link:"


def _also(language: str) -> str:
    return "Außerdem heißt es" if language == "de" else "The document also says"


def _no_link(source: str, target: str, passages, language: str, writer: _Explanation) -> str:
    """An honest answer: no stated link, and where each concept is discussed."""
    parts = []
    for name in (source, target):
        passage = next((p for p in passages if _mentions(p.quote, name, language)), None)
        if passage is None:
            continue
        writer.cite(passage.page, passage.quote)
        quote = _shorten(passage.quote, 160).rstrip(".")
        if language == "de":
            parts.append(f"{name} wird auf S. {passage.page} behandelt („{quote}“)")
        else:
            parts.append(f"{name} is discussed on p. {passage.page} (“{quote}”)")
    if language == "de":
        head = f"Das Dokument nennt keinen direkten Zusammenhang zwischen {source} und {target}"
        return f"{head}; {', '.join(parts)}." if parts else f"{head}, und keine Textstelle erwähnt sie."
    head = f"The document does not state a direct link between {source} and {target}"
    return f"{head}; {', and '.join(parts)}." if parts else f"{head}, and no passage mentioning them was found."


def _join(items: list[str], conjunction: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
