"""Typing the relation between two concepts from one sentence that mentions both (English, German).

Rule-based and deterministic, for the ``local`` provider. A sentence such as "Osmosis is the
diffusion of water ..." says *how* osmosis and diffusion relate (is_a); "Unlike cellular
respiration, photosynthesis stores energy." says they contrast. Where the sentence says nothing
about how, the pair is ``related_to``.

The rules look at the words *between* the two mentions (and a little before the first), after
dropping short parentheticals ("(X, d)"), adverbs ("also", "auch") and relative pronouns
("which", "die"). Directions follow the schema's reading "source <type> target":

* is_a:            "X is a Y", "X is a type/kind of Y", "X ist ein(e) Y"           -> X is_a Y
* part_of:         "X is part of Y", "X is found in Y", "X ist Teil von Y", "X in Y" -> X part_of Y
                   "Y contains / consists of / is made of X", "Y besteht aus X"     -> X part_of Y
* causes:          "X causes / leads to / results in / produces Y", "X führt zu Y"  -> X causes Y
                   "Y is caused by X", "Y entsteht durch X", "aus X folgt Y"        -> X causes Y
* defined_as:      "X is defined as ...", "... is called X", "... heißt X",
                   "we call ... X", "... bezeichnet man als X", "X is the ... Y ..." -> X defined_as Y
* example_of:      "X, for example Y", "X such as Y", "X, e.g. Y", "X, z. B. Y"     -> Y example_of X
                   "Y is an example of X", "Y ist ein Beispiel für X"               -> Y example_of X
* contrasts_with:  "unlike X, Y", "in contrast to X", "X, whereas Y", "X, not Y",
                   "im Gegensatz zu X", "the difference between X and Y"          -> symmetric
* related_to:      both mentioned in one sentence, nothing more specific.

Mentions are found with inflection-tolerant patterns (:func:`mention_pattern`): "cells" for "cell",
"mitochondria" for "mitochondrion", "metrische Räume" for "metrischer Raum".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable, NamedTuple

from studyapp.ai.schemas import RelationType

__all__ = ["ClassifiedRelation", "classify_relation", "definition_strength", "describe", "find_mentions",
           "mention_pattern"]


class ClassifiedRelation(NamedTuple):
    """A typed, directed relation read from one sentence: ``source <type> target``."""

    source: str
    target: str
    type: RelationType
    description: str


# ---------------------------------------------------------------------------------------------
# Finding mentions
# ---------------------------------------------------------------------------------------------

_UMLAUT_CLASS = {"a": "[aä]", "o": "[oö]", "u": "[uü]", "ä": "[aä]", "ö": "[oö]", "ü": "[uü]"}
_EN_ENDINGS = r"(?:s|es|'s|’s)?"
_DE_ENDINGS = r"(?:e|en|er|ern|es|em|n|s|ns)?"
_DE_STRIP = ("ern", "en", "er", "es", "em", "e", "n", "s")
# Latin/Greek plurals common in textbooks: mitochondrion/-a, bacterium/-a, nucleus/-i, axis/-es.
_CLASSICAL = (("ion", r"(?:ion|ia)"), ("ia", r"(?:ia|ion|ium)"), ("um", r"(?:um|a)"), ("on", r"(?:on|a)"),
              ("us", r"(?:us|i)"), ("is", r"(?:is|es)"), ("a", r"(?:a|ae)"), ("ex", r"(?:ex|ices)"),
              ("ix", r"(?:ix|ices)"))


def _en_word(word: str) -> str:
    lower = word.lower()
    if not lower.isalpha() or len(lower) <= 2:
        return re.escape(lower) + _EN_ENDINGS if lower.isalpha() else re.escape(lower)
    if lower.endswith("ies") and len(lower) > 4:
        return re.escape(lower[:-3]) + r"(?:y|ies)"
    if lower.endswith("y") and len(lower) > 3 and lower[-2] not in "aeiou":
        return re.escape(lower[:-1]) + r"(?:y|ies)"
    if len(lower) >= 6:
        for ending, alternatives in _CLASSICAL:
            if lower.endswith(ending):
                return re.escape(lower[: -len(ending)]) + alternatives + _EN_ENDINGS
    if lower.endswith(("sses", "shes", "ches", "xes")):
        lower = lower[:-2]
    elif lower.endswith("s") and not lower.endswith(("ss", "us", "is")) and len(lower) > 3:
        lower = lower[:-1]
    return re.escape(lower) + _EN_ENDINGS


def _de_word(word: str, noun: bool = True) -> str:
    lower = word.lower()
    if not lower.isalpha():
        return re.escape(lower)
    stem = lower
    if len(lower) >= 5:
        for ending in _DE_STRIP:
            if lower.endswith(ending) and len(lower) - len(ending) >= 4:
                stem = lower[: -len(ending)]
                break
    # Umlaut alternation only in the last syllables, where plurals put it (Raum/Räume).
    front, tail = stem[:-4], stem[-4:]
    pattern = re.escape(front) + "".join(_UMLAUT_CLASS.get(c, re.escape(c)) for c in tail) + _DE_ENDINGS
    if noun and word[:1].isupper() and not word.isupper():
        # A German noun is capitalised wherever it stands: "Fälle" must not find "falls".
        first = pattern[:4] if pattern.startswith("[") else pattern[:1]
        upper = first.upper() if first.startswith("[") else re.escape(word[0])
        pattern = "(?-i:" + upper + ")" + pattern[len(first):]
    return pattern


@lru_cache(maxsize=4096)
def mention_pattern(name: str, language: str | None = "en") -> re.Pattern | None:
    """A case-insensitive pattern for ``name`` and its inflected forms, or None for an empty name."""
    words = re.findall(r"[^\W_]+(?:['’][^\W_]+)?|[+#]+", unicodedata.normalize("NFC", name))
    if not words:
        return None
    if language == "de":
        parts = [_de_word(w, noun=i == len(words) - 1) for i, w in enumerate(words)]
    else:
        parts = [_en_word(w) for w in words]
    body = r"[\s\-‐–]+".join(parts)
    return re.compile(r"(?<![\w-])" + body + r"(?![\w])", re.IGNORECASE)


def find_mentions(text: str, name: str, language: str | None = "en") -> list[tuple[int, int]]:
    """Character spans of every mention of ``name`` (inflections included) in ``text``."""
    pattern = mention_pattern(name, language)
    return [m.span() for m in pattern.finditer(text)] if pattern else []


# ---------------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------------

_STOP_IN_NP = (
    "of|in|on|for|with|that|which|who|whose|by|to|from|and|or|not|no|nor|at|as|than|but|is|are|was|were|be|been|"
    "has|have|had|it|its|this|these|those|into|onto|over|under|between|through|"
    "von|vom|zu|zur|zum|für|mit|und|oder|nicht|kein|keine|keiner|als|auf|aus|bei|dass|wenn|ist|sind|war|"
    "wird|werden|hat|haben|durch|über|unter|im|in|an|am|wie|so|sowie|sodass|also|aber|"
    "the|a|an|der|die|das|des|dem|den|ein|eine|einer|eines|einem|einen|"
    "called|named|termed|known|defined|denoted|genannt|bezeichnet|definiert|heißt|heißen"
)
# Up to `n` words that can stand inside a noun phrase before the mention (adjectives, numerals).
_ADJ = r"(?:(?!(?:" + _STOP_IN_NP + r")\b)[\w-]+ )"
_ART = (r"(?:(?:a|an|the|one|some|every|each|all|any|this|these|its|their|"
        r"ein|eine|einer|eines|einem|einen|der|die|das|des|dem|den|jede|jeder|jedes|jedem|jeden|alle|allen) )")
_NP = _ART + "?" + _ADJ + "{0,3}"
# Lists before the second mention: "such as animal cells and plant cells", "carbon dioxide, water and ATP".
_ITEM = r"(?:[\w-]+(?: [\w-]+){0,3})"
_LIST = r"(?:" + _ITEM + r"(?:, " + _ITEM + r"){0,4},? (?:and|or|und|oder|sowie) )"
_NP_OR_LIST = r"(?:" + _LIST + "?" + _NP + ")"
_GAP = r"(?:[^;:.!?,=<>∈∉⊆⊂⊇⊃∪∩→↦∀∃{}|]*? )?"  # a short stretch of the same clause (limited by word count below)
_REL = r"(?:(?:, )?(?:which|that|who|der|die|das|welche|welcher|welches) )?"
_BE = r"(?:is|are|was|were|ist|sind|war|waren)"

_ADVERBS = (
    "also|always|usually|often|generally|typically|therefore|thus|hence|then|just|only|mainly|essentially|"
    "simply|actually|itself|themselves|really|indeed|all|both|"
    "auch|stets|immer|insbesondere|somit|daher|dann|selbst|damit|wieder|ebenfalls|genau|nur|gerade|folglich|"
    "nämlich|natürlich|offenbar|offensichtlich|jeweils|schon|bereits|ja|wirklich"
)
_ADVERB_RE = re.compile(r"(?<!\w)(?:" + _ADVERBS + r")(?!\w)", re.IGNORECASE)
_PAREN_RE = re.compile(r"\([^()]{0,60}\)|\[[^\[\]]{0,60}\]")
_NEGATION_RE = re.compile(r"(?<!\w)(?:not|never|no|nicht|kein|keine|keinen|niemals)(?!\w)", re.IGNORECASE)


def _rx(pattern: str) -> re.Pattern:
    return re.compile(r"^" + pattern + r"$", re.IGNORECASE)


# (pattern on the text between the mentions, type, direction). Direction "lr": first mention is
# the source; "rl": the second is. Tried in order; the first match wins.
# The last field says whether the first mention must be the clause's subject ("X is a Y"), which
# it is not after a preposition: "Jede Isometrie zwischen metrischen Räumen ist ein Homöomorphismus".
_BETWEEN_RULES: list[tuple[re.Pattern, RelationType, str, bool]] = [
    # --- contrast (before is_a: "X, not Y") ---
    # A bare "but", "however" or "while" joins clauses about anything: no contrast of the two terms.
    (_rx(r"(?:[^;:.!?]*? )?(?:whereas|unlike|in contrast to|as opposed to|rather than|instead of|"
         r"wohingegen|dagegen|hingegen|anders als|im gegensatz zu[mr]?|"
         r"im unterschied zu[mr]?|statt|anstatt),? " + _GAP + _NP), RelationType.CONTRASTS_WITH, "lr", False),
    (_rx(r"(?:not|nicht|and not|but not|und nicht|aber nicht|versus|vs\.?) (?:in |im |bei |on )?" + _NP),
     RelationType.CONTRASTS_WITH, "lr", False),
    (_rx(r"(?:differs?|differ|unterscheidet sich|unterscheiden sich) (?:from|von|vom) " + _NP),
     RelationType.CONTRASTS_WITH, "lr", True),
    # --- example_of: "X such as Y" -> Y example_of X ---
    (_rx(r"(?:(?:are|is|sind|ist|include|includes|umfassen),? )?(?:for example|for instance|e\. ?g\.,?|such as|including|like|namely|"
         r"zum beispiel|z\. ?b\.|beispielsweise|etwa|wie etwa|wie z\. ?b\.|wie zum beispiel|wie|darunter),? "
         + _NP_OR_LIST), RelationType.EXAMPLE_OF, "rl", False),
    # "Y is an example of X" -> Y example_of X
    (_rx(_REL + _BE + r" (?:an |ein |one )?(?:example|instance|beispiel|instanz) (?:of|for|für) " + _NP),
     RelationType.EXAMPLE_OF, "lr", True),
    # --- part_of ---
    (_rx(_REL + _BE + r" (?:an? |ein |eine |the )?(?:(?:integral|essential|wesentlicher) )?"
         r"(?:part|component|constituent|member|element|subset|piece|portion|organelle|"
         r"teil|bestandteil|komponente|teilmenge|teilraum|unterraum|untergruppe|element) "
         r"(?:of|in|von|vom|des|der|eines|einer|in) " + _NP), RelationType.PART_OF, "lr", True),
    (_rx(_GAP + _BE + r" (?:found|located|contained|present|embedded|situated|stored|kept|enclosed|"
         r"gefunden|enthalten) (?:in|inside|within|on|im|in der|in dem) " + _NP_OR_LIST),
     RelationType.PART_OF, "lr", True),
    (_rx(_REL + r"(?:belongs?|gehört|gehören) (?:to|zu[mr]?) " + _NP), RelationType.PART_OF, "lr", True),
    (_rx(_REL + r"(?:lies?|sits?|resides?|occurs?|liegt|liegen|sitzt) (?:in|inside|within|im|in der|innerhalb) "
         + _NP), RelationType.PART_OF, "lr", True),
    (_rx(r"(?:in|inside|within|im|innerhalb) " + _NP), RelationType.PART_OF, "lr", False),  # weak: "X in Y"
    # "Y contains X" -> X part_of Y
    (_rx(_GAP + r"(?:contains?|consists? of|consisting of|includes?|comprises?|comprising|encloses?|houses?|"
         r"(?:is|are) (?:made|built) (?:up )?(?:of|from)|(?:is|are) composed of|composed of|made of|"
         r"besteht aus|bestehen aus|bestehend aus|enthält|enthalten|umfasst|umfassen|beinhaltet|beinhalten|"
         r"setzt sich aus|setzen sich aus) " + _NP_OR_LIST), RelationType.PART_OF, "rl", True),
    # --- causes ---
    (_rx(_GAP + r"(?:(?:can|may|will|could|might|kann|können) )?"
         r"(?:causes?|caused|leads? to|led to|results? in|resulted in|produces?|produced|triggers?|induces?|"
         r"gives? rise to|generates?|creates?|releases?|yields?|implies|"
         r"führt zu[mr]?|führen zu[mr]?|bewirkt|bewirken|verursacht|verursachen|erzeugt|erzeugen|"
         r"impliziert|implizieren|ergibt|ergeben|hervorruft|hervorrufen|auslöst|auslösen) " + _NP_OR_LIST),
     RelationType.CAUSES, "lr", True),
    # "Y is caused by X" -> X causes Y
    (_rx(_REL + r"(?:(?:is|are|was|were|can be|may be) (?:caused|produced|triggered|induced|generated|created) by|"
         r"results? from|arises? from|is due to|are due to|"
         r"entsteht (?:durch|aus)|entstehen (?:durch|aus)|folgt aus|folgen aus|"
         r"wird (?:durch|von) " + _NP + r"(?:verursacht|erzeugt|bewirkt|ausgelöst)) " + _NP),
     RelationType.CAUSES, "rl", True),
    # --- is_a (the second mention right after "is a") ---
    (_rx(_REL + _BE + r" (?:an? |the |one |ein |eine |einer |der |die |das )?"
         r"(?:(?:special |particular |specific |spezielle |spezieller |besondere |besonderer )?"
         r"(?:type|kind|form|class|sort|variant|subtype|special case|case|instance|"
         r"art|form|sorte|klasse|spezialfall|sonderfall|typ) (?:of|von|des|der|eines|einer) " + _ART + r"?)?"
         + _ADJ + r"{0,3}"), RelationType.IS_A, "lr", True),
    (_rx(r"(?:an? |ein |eine )(?:type|kind|form|class|art|form|klasse) (?:of|von) " + _NP),
     RelationType.IS_A, "lr", True),
    (_rx(r"(?:and|or|und|oder) (?:other|andere|anderen|weitere|weiteren) " + _ADJ + r"{0,2}"),
     RelationType.IS_A, "lr", False),
    # --- defined_as with an explicit verb between ---
    (_rx(_REL + r"(?:is|are|ist|sind|wird|werden) (?:defined|definiert) (?:as|als|by|durch|über|in terms of) "
         + _GAP + _NP), RelationType.DEFINED_AS, "lr", True),
    (_rx(_REL + r"(?:means|denotes|refers to|bedeutet|bezeichnet) " + _GAP + _NP), RelationType.DEFINED_AS, "lr", True),
]

# Cues in front of the first mention: "Unlike X, Y ...", "the difference between X and Y".
_BEFORE_RULES: list[tuple[re.Pattern, re.Pattern, RelationType, str]] = [
    # Only at the start of the sentence: "Unlike X, Y ...". Mid-sentence ("Y has, unlike X, Z")
    # the contrast is with what stands before the cue (a between-rule above).
    (re.compile(r"^[\W\d]*(?:[a-z]\) )?(?:unlike|in contrast to|in contrast with|contrary to|as opposed to|compared (?:to|with)|"
                r"im gegensatz zu[mr]?|im unterschied zu[mr]?|anders als|verglichen mit|gegenüber) " + _ART + r"?"
                + _ADJ + r"{0,2}$", re.IGNORECASE),
     re.compile(r".*"), RelationType.CONTRASTS_WITH, "rl"),
    (re.compile(r"(?:difference|differences|distinction|contrast|unterschied|unterschiede) "
                r"(?:between|zwischen) " + _ART + r"?" + _ADJ + r"{0,2}$", re.IGNORECASE),
     _rx(r"(?:and|und) " + _NP), RelationType.CONTRASTS_WITH, "lr"),
    (re.compile(r"(?:examples? of|beispiele? für|beispiele? von) " + _ART + r"?" + _ADJ + r"{0,2}$", re.IGNORECASE),
     _rx(r"(?:are|is|include|includes|sind|ist|umfassen)(?: z\. ?b\.)? " + _NP_OR_LIST), RelationType.EXAMPLE_OF, "rl"),
    (re.compile(r"(?:^|\W)aus " + _ART + r"?" + _ADJ + r"{0,2}$", re.IGNORECASE),
     _rx(r"(?:folgt|folgen|ergibt sich|ergeben sich) " + _NP), RelationType.CAUSES, "lr"),
]

# Formula tokens between a cue and its term: "heißt TDiskret = P(X) diskrete Topologie".
_SYMBOLS = r"(?:(?:\S*[^\w\s]\S*|\w{1,2}|(?-i:\w*[A-ZÄÖÜ]\w*[A-ZÄÖÜ]\w*)|\w*\d\w*) )"
# A term being defined: the words just before it ("... is called X", "... heißt X") ...
_TERM_BEFORE = re.compile(
    r"(?:(?:is|are|was|were) (?:called|termed|named|known as|referred to as|denoted)|called|known as|so-called|"
    # "we call such a set a X" names X; "we define an equation that relates X to ..." does not
    # define X: after "define"/"denote" only an article and adjectives may stand before the term.
    r"we call(?: \w+){0,6}|we (?:define|denote)|"
    r"(?:heißt|heißen|nennt man|nennen wir|nennen|bezeichnet man(?: \w+){0,4} als|bezeichnen wir(?: \w+){0,4} als|"
    r"wird(?: \w+){0,4} als|werden(?: \w+){0,4} als|sogenannte[nmrs]?|definieren wir(?: \w+){0,4} als|"
    r"versteht man unter)) " + _SYMBOLS + r"{0,4}[\"'“„‘«]?" + _ART + r"?" + _ADJ + r"{0,2}$",
    re.IGNORECASE,
)
# ... or just after it ("X is defined as", "X wird ... genannt", "unter X versteht man").
_TERM_AFTER = re.compile(
    r"^[\"'”“»]?,? (?:(?:is|are) defined|refers to|means|denotes|:=|"
    r"(?:ist|sind|wird|werden) (?:definiert|erklärt)|versteht man)\b"
    r"|^[^.;:!?]{0,30}?\bgenannt\b",
    re.IGNORECASE,
)
# "f heißt Homöomorphismus, wenn ...", "X is called Y if ...": the definiens follows the term.
_CONDITION_AFTER = re.compile(r"^\W{0,3}\s*(?:wenn|falls|if|when|whenever|provided|sofern)\b", re.IGNORECASE)
_UNTER_BEFORE = re.compile(r"(?:^|\W)unter " + _ART + r"?" + _ADJ + r"{0,2}$", re.IGNORECASE)
_SUBJECT_DEFINITION = re.compile(
    r"^(?:,? )?(?:is|are|ist|sind) (?:an?|the|one|ein|eine|einer|der|die|das)\b", re.IGNORECASE)
_SUBJECT_START = re.compile(
    r"^(?:[\W\d]*)(?:(?:\d+(?:\.\d+)*\.?|[a-z]\)|\(?[ivx]+\)) )?"
    r"(?:(?:definition|def\.|satz|lemma|bemerkung|theorem|proposition|korollar|beispiel)(?: \d+(?:\.\d+)*)?:? )?"
    r"(?:(?:the|a|an|ein|eine|einen|der|die|das|jede|jeder|jedes) )?$",
    re.IGNORECASE,
)

_MAX_BETWEEN_WORDS = 12
_PREPOSITION_BEFORE = re.compile(
    r"(?<!\w)(?:of|in|on|at|with|between|from|for|by|to|into|about|among|within|without|under|over|"
    r"von|vom|zwischen|mit|in|im|auf|für|aus|bei|zu|zum|zur|nach|über|unter|ohne|durch|gegen|um|an|am)"
    r" (?:" + _ART + r")?" + _ADJ + r"{0,2}$", re.IGNORECASE)
_MAX_DEFINITION_WORDS = 20
_FORMULA = re.compile(r"[=<>∈∉⊆⊂⊇⊃∪∩→↦∀∃∑∫≤≥±×∘◦{}|]")
_HARD_BREAK = re.compile(r"[;•■▪⇒⇔⟹⟺]|:=|:(?=\s)|\s[a-z]\)\s|\s\d\)\s")
_MAX_RELATED_WORDS = 30
# Only list punctuation or a conjunction between two mentions ("X, Y", "X and Y", "X or the Y").
_LIST_GLUE = re.compile(
    r"^[\s,/|()\[\]&+-]*(?:(?:and|or|as well as|nor|und|oder|sowie|bzw\.|et|ou|y|o|e)[\s,]+)?"
    r"(?:(?:the|a|an|der|die|das|den|dem|des|ein|eine|le|la|les|un|une|des|el|los|las|una)\s+)?$",
    re.IGNORECASE)
_CONJUNCTION = re.compile(r"(?<!\w)(?:and|or|as well as|nor|und|oder|sowie|et|ou|y|o)(?!\w)", re.IGNORECASE)


def _listed(between: str, sentence: str) -> bool:
    """Two items of an enumeration ("X, Y and Z", "X or Y"), which the sentence names side by side
    without relating them; a lone comma without a conjunction anywhere is a clause boundary."""
    if not _LIST_GLUE.match(between):
        return False
    return bool(_CONJUNCTION.search(between) or ("," in between and _CONJUNCTION.search(sentence)))

_TEMPLATES = {
    "en": {
        RelationType.IS_A: "{s} is a kind of {t}",
        RelationType.PART_OF: "{s} is part of {t}",
        RelationType.CAUSES: "{s} leads to {t}",
        RelationType.DEFINED_AS: "{s} is defined in terms of {t}",
        RelationType.EXAMPLE_OF: "{s} is an example of {t}",
        RelationType.CONTRASTS_WITH: "{s} contrasts with {t}",
        RelationType.RELATED_TO: "{s} and {t} are mentioned together",
    },
    "de": {
        # Colons spare the declension a template cannot do ("zu euklidische Geometrie").
        RelationType.IS_A: "{s} ist ein(e) {t}",
        RelationType.PART_OF: "{s} ist Teil von: {t}",
        RelationType.CAUSES: "{s} führt zu: {t}",
        RelationType.DEFINED_AS: "{s} wird definiert mithilfe von: {t}",
        RelationType.EXAMPLE_OF: "{s} ist ein Beispiel für: {t}",
        RelationType.CONTRASTS_WITH: "Gegensatz: {s} und {t}",
        RelationType.RELATED_TO: "{s} und {t} werden zusammen genannt",
    },
}


def describe(source: str, target: str, type_: RelationType, language: str | None = "en") -> str:
    """A short sentence for the relation, in the document's language."""
    templates = _TEMPLATES["de" if language == "de" else "en"]
    return templates[type_].format(s=source, t=target)


def _clean(fragment: str) -> str:
    """Whitespace-normalised, without short parentheticals and adverbs: the shape the rules expect."""
    fragment = _PAREN_RE.sub(" ", fragment)
    fragment = _ADVERB_RE.sub(" ", fragment)
    fragment = re.sub(r"\s+([,;:])", r"\1", fragment)
    fragment = " ".join(fragment.split()).lstrip(", ")
    # The rules expect each word followed by one space: "is a ", "such as animal cells and ".
    return fragment + " " if fragment else ""


def _between_type(between: str, subject: bool) -> tuple[RelationType, str] | None:
    if len(between.split()) > _MAX_BETWEEN_WORDS or re.search(r"[;:!?]", between):
        return None
    for pattern, type_, direction, needs_subject in _BETWEEN_RULES:
        if needs_subject and not subject:
            continue
        if pattern.match(between):
            if type_ in (RelationType.IS_A, RelationType.PART_OF, RelationType.CAUSES) and _NEGATION_RE.search(between):
                return None  # "X is not a Y", "X does not cause Y"
            return type_, direction
    return None


def _defined_term(sentence: str, span: tuple[int, int]) -> bool:
    before = " ".join(sentence[: span[0]].split()[-10:]) + " "
    after = sentence[span[1] : span[1] + 40]
    if _TERM_BEFORE.search(before) or _TERM_AFTER.match(after):
        return True
    # "Unter X versteht man ..."
    return bool(_UNTER_BEFORE.search(before) and re.search(r"\bversteht man\b", sentence[span[1]:], re.IGNORECASE))


def _free(spans: list[tuple[int, int]], blocked: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans not strictly inside a longer blocked span."""
    return [s for s in spans
            if not any(b[0] <= s[0] and s[1] <= b[1] and (b[1] - b[0]) > (s[1] - s[0]) for b in blocked)]


def definition_strength(sentence: str, name: str, language: str | None = "en") -> int:
    """How clearly ``sentence`` defines ``name``: 3 "X is a/the ...", "X is defined as ...";
    2 "... is called X", "... heißt X"; 1 "X is/are ..." at the start; 0 not a definition."""
    language = "de" if language == "de" else "en"
    best = 0
    for span in find_mentions(sentence, name, language)[:3]:
        before = " ".join(_PAREN_RE.sub(" ", sentence[: span[0]]).split()) + " "
        after = _clean(sentence[span[1] : span[1] + 80])
        if _SUBJECT_START.match(before.lower()):
            if _SUBJECT_DEFINITION.match(after):  # "X is a/the ..." ("X is not a ..." does not match)
                return 3
            if _TERM_AFTER.match(" " + after):
                return 3
            if re.match(r"(?:is|are|ist|sind|means|bedeutet|heißt|heißen)\b", after, re.IGNORECASE):
                best = max(best, 1)
        if _defined_term(sentence, span):
            best = max(best, 2)
    return best


def _pairs(a_spans, b_spans):
    """Non-overlapping (a, b) span pairs, nearest first, then by position (deterministic)."""
    pairs = []
    for sa in a_spans:
        for sb in b_spans:
            if sa[0] < sb[1] and sb[0] < sa[1]:
                continue
            gap = sb[0] - sa[1] if sa[0] < sb[0] else sa[0] - sb[1]
            pairs.append((gap, min(sa[0], sb[0]), sa, sb))
    pairs.sort()
    return [(sa, sb) for _, _, sa, sb in pairs]


def classify_relation(sentence: str, a: str, b: str, language: str | None = "en", *,
                      others: Iterable[str] = ()) -> ClassifiedRelation | None:
    """How concepts ``a`` and ``b`` relate according to ``sentence``, or None if it does not mention both.

    Returns a :class:`ClassifiedRelation` whose source and target are ``a`` and ``b`` (as given) in
    the direction the sentence states; ``related_to`` when it states no specific link. Pairs whose
    mentions are more than ~30 words apart are not related (None): the sentence is a list or a dump.
    ``others`` are further concept names: a mention of ``a`` inside a mention of one of them
    ("cell" inside "plant cells") does not count as a mention of ``a``.
    """
    if not sentence or not a.strip() or not b.strip() or a.strip().lower() == b.strip().lower():
        return None
    language = "de" if language == "de" else "en"
    blocked = [span for name in others for span in find_mentions(sentence, name, language)]
    pairs = _pairs(_free(find_mentions(sentence, a, language), blocked),
                   _free(find_mentions(sentence, b, language), blocked))
    if not pairs:
        return None
    for sa, sb in pairs[:4]:
        found = _classify_pair(sentence, a, b, sa, sb, language)
        if found is not None:
            return found
    sa, sb = pairs[0]
    first, second = (sa, sb) if sa[0] < sb[0] else (sb, sa)
    between = sentence[first[1] : second[0]]
    if len(between.split()) > _MAX_RELATED_WORDS or _HARD_BREAK.search(between) \
            or len(_FORMULA.findall(between)) > 1 or _listed(between, sentence):
        return None  # too far apart, across a break, or two items of a list: no stated link
    return ClassifiedRelation(a, b, RelationType.RELATED_TO, describe(a, b, RelationType.RELATED_TO, language))


def _classify_pair(sentence: str, a: str, b: str, sa, sb, language: str) -> ClassifiedRelation | None:
    (left, ls), (right, rs) = ((a, sa), (b, sb)) if sa[0] < sb[0] else ((b, sb), (a, sa))

    def made(type_: RelationType, direction: str) -> ClassifiedRelation:
        source, target = (left, right) if direction == "lr" else (right, left)
        if type_ == RelationType.CONTRASTS_WITH and source != a:
            source, target = target, source  # symmetric: keep the caller's order
        return ClassifiedRelation(source, target, type_, describe(source, target, type_, language))

    if _HARD_BREAK.search(sentence[ls[1] : rs[0]]):
        return None  # a formula, bullet or implication arrow between them: not one statement
    between = _clean(sentence[ls[1] : rs[0]])
    before = " ".join(_PAREN_RE.sub(" ", sentence[: ls[0]]).split()) + " "
    for before_rule, between_rule, type_, direction in _BEFORE_RULES:
        if before_rule.search(before) and between_rule.match(between):
            return made(type_, direction)
    typed = _between_type(between, not _PREPOSITION_BEFORE.search(before))
    if typed is not None:
        return made(*typed)
    # A definition: one of them is the term being defined, the other is used to define it. "The
    # number of robots ... is called the fan-out of a team": the definiens stands before "is
    # called X", so the right-hand concept is the term and the team, after it, defines nothing.
    for term, other, span in ((left, right, ls), (right, left, rs)):
        named = _TERM_BEFORE.search(" ".join(sentence[: ls[0]].split()[-10:]) + " ")
        if span is ls and named and not _CONDITION_AFTER.match(sentence[ls[1]:]):
            continue  # named by "is called"/"heißt", defined by what comes before (unless "..., if ...")
        if len(between.split()) <= _MAX_DEFINITION_WORDS and _defined_term(sentence, span):
            return ClassifiedRelation(term, other, RelationType.DEFINED_AS,
                                      describe(term, other, RelationType.DEFINED_AS, language))
    # "X is the ... Y ...": X is the sentence's subject and the sentence defines it.
    if _SUBJECT_START.match(before.lower()) and _SUBJECT_DEFINITION.match(between) \
            and len(between.split()) <= _MAX_DEFINITION_WORDS and not _NEGATION_RE.search(between):
        return ClassifiedRelation(left, right, RelationType.DEFINED_AS,
                                  describe(left, right, RelationType.DEFINED_AS, language))
    return None
