"""Offline, deterministic concept (keyphrase) extraction for the ``local`` AI provider.

``extract_keyphrases(text)`` returns the phrases a student would name as the key ideas of
a document, best first.  It needs no network and downloads nothing at run time.

Method (English)
----------------
1. Sentences come from :mod:`studyapp.ai.text` (abbreviation-aware splitting; headings
   and titles, including titles wrapped over several lines, are flagged).
2. Every sentence is part-of-speech tagged with a greedy averaged-perceptron tagger
   (Honnibal's algorithm, Penn Treebank tags) whose weights ship inside the
   ``textblob-aptagger`` wheel.  Only that data file is read, with an unpickler that
   accepts nothing but dicts/sets/strings/floats; the package itself is never imported.
   Without the wheel the extractor falls back to a POS-free mode (stopword boundaries):
   weaker, but it works.
3. Candidates are maximal noun phrases ``(JJ|VBN|VBG|NN*)* NN*`` of at most 5 words inside
   a sentence, without stopwords, possessives or content-free leading modifiers ("new",
   "various", "important", ...), cut at -s words that are really verbs the tagger missed
   ("RuBisCO fixes carbon dioxide").  Variants are merged by their Snowball stems.
4. Each candidate gets 18 features: summed RAKE-style word degree, phrase length,
   frequency (as a whole phrase, anywhere inside longer phrases, plus mentions of an
   acronym it defines), position of the first mention, heading/title membership,
   definitional context ("X is a ...", "called X", "X (ABC)"), how many of its words are
   common newspaper English (the tagger's vocabulary: a cheap specificity signal),
   capitalisation, generic single words ("paper", "results").  A fixed logistic model
   (fitted on a development half of Inspec, then given a small hand-set prior for study
   material, see ``_WEIGHTS_TAGGED``) scores it; ``Keyphrase.score`` is the logistic.
5. The top list is chosen greedily; a sub-phrase of an already chosen phrase pays a small
   penalty, so lists are not three variants of one idea.

German runs the same pipeline without a tagger: nouns are recognised by their capital
letter, attributive adjectives by inflection endings after a determiner; one noun per
phrase (German writes compounds as one word).

Everything is deterministic (ties broken by first position, then by stem key).
``bench/concepts_inspec.py`` measures F1@10 on Inspec next to YAKE.
"""

from __future__ import annotations

import importlib.util
import math
import os
import pickle
import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from studyapp.ai.text import SUPPORTED_LANGUAGES, guess_language, iter_tokens, sentences, stopwords

__all__ = ["Keyphrase", "extract_keyphrases", "normalise_phrase"]

MAX_PHRASE_WORDS = 5


@dataclass(frozen=True)
class Keyphrase:
    """One extracted concept.

    ``phrase``: surface form as it appears in the text (case kept for proper nouns and
    acronyms, lower-cased otherwise).  ``score``: in (0, 1), higher is better.
    ``count``: occurrences of the phrase in the text.  ``first_offset``: character offset
    of its first occurrence in the input string.
    """

    phrase: str
    score: float
    count: int
    first_offset: int


# --------------------------------------------------------------------------------------
# Part-of-speech tagger (averaged perceptron, weights from the textblob-aptagger wheel)
# --------------------------------------------------------------------------------------

_TAGGER_PACKAGE = "textblob_aptagger"
_TAGGER_FILE = "trontagger-0.1.0.pickle"


class _RestrictedUnpickler(pickle.Unpickler):
    """The model is plain dicts/sets/strings/floats: refuse anything else."""

    def find_class(self, module: str, name: str):  # noqa: D401
        if module in ("builtins", "__builtin__") and name in ("set", "frozenset"):
            return set if name == "set" else frozenset
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the tagger model")


class _PerceptronTagger:
    """Greedy averaged-perceptron POS tagger (Penn Treebank tags).

    A re-implementation of the prediction half of Matthew Honnibal's tagger (the same
    features as the model was trained with), so that only the weights are needed.
    """

    _START = ("-START-", "-START2-")
    _END = ("-END-", "-END2-")

    def __init__(self, weights: dict, tagdict: dict, classes: set):
        self.weights = weights
        self.tagdict = tagdict
        self.classes = tuple(sorted(classes))
        vocab = {feat[7:] for feat in weights if feat.startswith("i word ")}
        vocab.update(w.lower() for w in tagdict)
        #: Lower-case words frequent enough in the tagger's newspaper training text to
        #: have their own feature: a cheap "common English word" list.
        self.vocabulary = frozenset(vocab)

    @staticmethod
    def _normalise(word: str) -> str:
        if "-" in word and word[0] != "-":
            return "!HYPHEN"
        if word.isdigit() and len(word) == 4:
            return "!YEAR"
        if word[0].isdigit():
            return "!DIGITS"
        return word.lower()

    def tag(self, words: list[str]) -> list[str]:
        context = [*self._START, *(self._normalise(w) for w in words), *self._END]
        prev, prev2 = self._START
        weights, classes, tagdict = self.weights, self.classes, self.tagdict
        tags = []
        for i, word in enumerate(words):
            tag = tagdict.get(word)
            if not tag:
                j = i + 2
                cur, before, after = context[j], context[j - 1], context[j + 1]
                features = (
                    "bias",
                    "i suffix " + word[-3:],
                    "i pref1 " + word[0],
                    "i-1 tag " + prev,
                    "i-2 tag " + prev2,
                    "i tag+i-2 tag " + prev + " " + prev2,
                    "i word " + cur,
                    "i-1 tag+i word " + prev + " " + cur,
                    "i-1 word " + before,
                    "i-1 suffix " + before[-3:],
                    "i-2 word " + context[j - 2],
                    "i+1 word " + after,
                    "i+1 suffix " + after[-3:],
                    "i+2 word " + context[j + 2],
                )
                scores: dict[str, float] = {}
                for feature in features:
                    fw = weights.get(feature)
                    if fw:
                        for label, weight in fw.items():
                            scores[label] = scores.get(label, 0.0) + weight
                best = max(scores.items(), key=lambda kv: (kv[1], kv[0])) if scores else None
                if best is not None and best[1] > 0.0:
                    tag = best[0]  # every class missing from ``scores`` has score 0
                else:
                    tag = max(classes, key=lambda label: (scores.get(label, 0.0), label))
            tags.append(tag)
            prev2, prev = prev, tag
        return tags


_tagger_lock = threading.Lock()
_tagger_cache: list = []  # [tagger or None] once loaded


def _model_path() -> str | None:
    try:
        spec = importlib.util.find_spec(_TAGGER_PACKAGE)  # does not import the package
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = os.path.join(location, _TAGGER_FILE)
        if os.path.isfile(path):
            return path
    return None


def _get_tagger() -> _PerceptronTagger | None:
    """The English tagger, loaded once (about 0.2 s), or None if the model is missing."""
    if not _tagger_cache:
        with _tagger_lock:
            if not _tagger_cache:
                tagger = None
                path = _model_path()
                if path:
                    try:
                        with open(path, "rb") as fh:
                            weights, tagdict, classes = _RestrictedUnpickler(fh).load()
                        tagger = _PerceptronTagger(weights, tagdict, classes)
                    except Exception:  # corrupt/unexpected model: degrade, don't crash
                        tagger = None
                _tagger_cache.append(tagger)
    return _tagger_cache[0]


# --------------------------------------------------------------------------------------
# Stemming / normalisation
# --------------------------------------------------------------------------------------


_THREAD = threading.local()


def _stemmer(language: str):
    """One stemmer per thread and language: snowball stemmers keep per-word state, so threads
    sharing one (the graph builder extracts chunks on a pool) get wrong stems or an IndexError."""
    import snowballstemmer

    stemmers = _THREAD.__dict__.setdefault("stemmers", {})
    if language not in stemmers:
        stemmers[language] = snowballstemmer.stemmer("german" if language == "de" else "english")
    return stemmers[language]


def _stem_function(language: str):
    stem_word = _stemmer(language).stemWord
    cache: dict[str, str] = {}

    def stem(word: str) -> str:
        s = cache.get(word)
        if s is None:
            s = cache[word] = stem_word(word.lower())
        return s

    return stem


_INVARIANT_PLURALS = frozenset(
    "series species means news physics mathematics economics statistics ethics politics "
    "genetics linguistics dynamics mechanics electronics robotics analytics logistics "
    "semantics graphics optics acoustics thermodynamics kinetics".split()
)
_IRREGULAR_PLURALS = {
    "children": "child", "men": "man", "women": "woman", "people": "person", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "geese": "goose", "data": "data", "criteria": "criterion",
    "phenomena": "phenomenon", "analyses": "analysis", "theses": "thesis", "hypotheses":
    "hypothesis", "bases": "basis", "crises": "crisis", "diagnoses": "diagnosis", "indices":
    "index", "matrices": "matrix", "vertices": "vertex", "appendices": "appendix", "nuclei":
    "nucleus", "radii": "radius", "stimuli": "stimulus", "fungi": "fungus", "bacteria":
    "bacterium", "media": "medium", "curricula": "curriculum", "spectra": "spectrum",
    "algae": "alga", "larvae": "larva", "formulae": "formula", "schemata": "schema",
    "lives": "life", "leaves": "leaf", "halves": "half", "wolves": "wolf", "knives": "knife",
    "shelves": "shelf", "selves": "self", "axes": "axis", "viruses": "virus", "buses": "bus",
    "gases": "gas", "lenses": "lens", "biases": "bias", "aliases": "alias", "focuses": "focus",
    "statuses": "status", "campuses": "campus", "bonuses": "bonus", "corpora": "corpus",
    "syllabi": "syllabus", "cacti": "cactus", "foci": "focus", "loci": "locus",
}
_PUNCT_RE = re.compile(r"[^\w\s+#-]|(?<!\w)-|-(?!\w)")


def _singularise(word: str) -> str:
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if len(word) <= 3 or word in _INVARIANT_PLURALS or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is", "ous", "ics")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


_LEADING_ARTICLES = frozenset("the a an der die das den dem des ein eine einen einem einer eines".split())
_POSSESSIVE_RE = re.compile(r"(?<=\w)['’]s\b|(?<=s)['’](?=\s|$)")


def normalise_phrase(s: str, language: str = "en") -> str:
    """Canonical key for merging aliases of a phrase.

    Lower-cases, drops possessive 's, strips punctuation (inner hyphens stay:
    "real-time"), drops a leading article, collapses whitespace and, for English,
    singularises the head (last) word with simple rules: "The Neural Networks." ->
    "neural network", "case studies" -> "case study", "analyses" -> "analysis";
    "series", "physics", "class" are left alone.  German keeps its words as they are.
    """
    text = _POSSESSIVE_RE.sub("", s.lower())
    words = _PUNCT_RE.sub(" ", text).split()
    if len(words) > 1 and words[0] in _LEADING_ARTICLES:
        words = words[1:]
    if not words:
        return ""
    if language != "de":
        words[-1] = _singularise(words[-1])
    return " ".join(words)


# --------------------------------------------------------------------------------------
# Candidate extraction
# --------------------------------------------------------------------------------------

# Leading modifiers that carry no content ("new method", "various approaches").
_WEAK_MODIFIERS = {
    "en": frozenset(
        """
        new novel various several different other such many certain same previous recent current
        particular following possible given whole further present proposed good better best bad
        worse worst important significant main major key great valuable impressive inevitable
        interesting useful typical traditional conventional existing specific overall appropriate
        suitable corresponding respective basic first second third last final additional extensive
        considerable substantial numerous huge tremendous vast enormous little few more most less
        least much own real true actual minor crucial essential necessary critical relevant related
        similar obvious clear strong weak poor rich successful difficult easy hard simple
        example examples instance
        """.split()
    ),
    "de": frozenset(
        """
        neue neuen neuer neues neuem verschiedene verschiedenen verschiedener andere anderen
        anderer anderes weitere weiteren weiterer gleiche gleichen wichtige wichtigen wichtiger
        wichtiges große großen großer großes kleine kleinen kleiner kleines erste ersten erster
        zweite zweiten letzte letzten bestimmte bestimmten einige einigen viele vielen mehrere
        mehreren gute guten guter gutes folgende folgenden bekannte bekannten sogenannte
        sogenannten jeweilige jeweiligen
        """.split()
    ),
}

# Single words that are rarely the answer to "what is this about?".
_GENERIC_WORDS = {
    "en": frozenset(
        """
        paper article study approach result results way case cases example examples lot lots kind
        kinds part parts number numbers thing things fact facts aspect aspects issue issues
        chapter section figure table page pages today time times year years
        """.split()
    ),
    "de": frozenset(
        """
        beispiel beispiele teil teile art arten zahl fall fälle kapitel abschnitt abbildung
        tabelle seite seiten jahr jahre zeit ergebnis ergebnisse weise
        """.split()
    ),
}

# "This paper considers ..." - the word after these is usually a verb in -s.
_DOCUMENT_NOUNS = frozenset("paper article study chapter work thesis report section letter note".split())

_DEFINITION_AFTER = re.compile(
    r"\s*(?:\(\s*[^()]{1,40}\)\s*)?(?:,\s*)?(?:is|are|was|were|ist|sind)\s+"
    r"(?:a|an|the|one|defined|called|known|referred|termed|ein|eine|der|die|das|definiert)\b",
    re.IGNORECASE,
)
_DEFINITION_BEFORE = re.compile(
    r"(?:called|termed|named|known\s+as|defined\s+as|refers?\s+to|so-called|namely|"
    r"bezeichnet\s+als|genannt|sogenannte[nmrs]?|heißt|nennt\s+man)\s*[\"'“„‘«]?\s*$",
    re.IGNORECASE,
)
_ACRONYM_AFTER = re.compile(r"\s*\(\s*([A-Z][A-Za-z0-9&-]{1,9}s?)\s*[),;]")
_GERMAN_ADJ_RE = re.compile(r"[^\W\d_]{3,}(?:e|en|er|es|em)$")

_TOKEN_NOUN, _TOKEN_MODIFIER, _TOKEN_OTHER = 2, 1, 0
_SPLIT_VERB_S = True
# Tags that follow a verb rather than a noun phrase: "chlorophyll passes excited electrons".
_TAGS_AFTER_VERB = frozenset("DT PRP PRP$ RB RBR RP JJ JJR CD VBN VBG".split())
_AFTER_VERB = frozenset(
    "the a an this that these those its their his her our your more most less mostly also only "
    "not no both each every some any all".split()
)
# Plural words that do head-modify other nouns ("data structures", "systems analysis").
_PLURAL_MODIFIERS = frozenset(
    """
    data systems sales sports materials communications operations savings goods arms customs
    parts services students women men children people rights human humans arts letters
    numbers graphics robotics economics mathematics physics genetics news means series
    species media criteria users applications networks methods products jobs
    """.split()
)
_VERBAL_MODIFIERS = True


@dataclass
class _Candidate:
    key: str
    words: tuple[str, ...]  # stems
    surfaces: Counter
    first_token: int
    first_offset: int
    first_sentence: int
    n_maximal: int = 0
    n_total: int = 0
    in_heading: bool = False
    definition: bool = False
    acronym: str | None = None
    proper_share: float = 0.0
    verbal: bool = False


@dataclass
class _Token:
    text: str
    tag: str
    start: int
    sentence: int
    heading: bool
    kind: int = _TOKEN_OTHER
    sentence_initial: bool = False


def _tokens(text: str, language: str) -> tuple[list[_Token], bool]:
    """Tokenise and tag ``text``; returns (tokens, tagged)."""
    tagger = _get_tagger() if language == "en" else None
    tokens: list[_Token] = []
    for si, sent in enumerate(sentences(text, language)):
        span = text[sent.start : sent.end]
        words = list(iter_tokens(span, punctuation=True))
        if not words:
            continue
        tags = tagger.tag([w for w, _, _ in words]) if tagger else [""] * len(words)
        first = True
        for (word, start, _), tag in zip(words, tags):
            tokens.append(_Token(word, tag, sent.start + start, si, sent.heading, sentence_initial=first))
            if word[0].isalnum():
                first = False
    return tokens, tagger is not None


def _classify(tokens: list[_Token], language: str, tagged: bool) -> None:
    """Set each token's kind: noun (phrase head), modifier, or other (boundary)."""
    stop = stopwords(language)
    n = len(tokens)
    for i, tok in enumerate(tokens):
        word = tok.text
        lower = word.lower()
        if (
            len(word) < 2
            or lower in stop
            or not any(c.isalpha() for c in word)
            or lower.endswith(("'s", "’s", "s'"))
        ):
            tok.kind = _TOKEN_OTHER
        elif tagged:
            if tok.tag.startswith("NN"):
                tok.kind = _TOKEN_NOUN
            elif tok.tag == "JJ" or (_VERBAL_MODIFIERS and tok.tag in ("VBG", "VBN")):
                tok.kind = _TOKEN_MODIFIER
            else:
                tok.kind = _TOKEN_OTHER
        elif language == "de":
            if word[0].isupper():
                tok.kind = _TOKEN_NOUN
            elif _GERMAN_ADJ_RE.match(word):
                tok.kind = _TOKEN_MODIFIER  # confirmed below
            else:
                tok.kind = _TOKEN_OTHER
        else:  # English without tagger: every content word may be part of a phrase
            tok.kind = _TOKEN_NOUN
    if language == "de" and not tagged:
        # Attributive adjectives follow a determiner/preposition (a stopword), punctuation
        # or another adjective, and precede a noun or adjective: "die chemische Energie".
        for i, tok in enumerate(tokens):
            if tok.kind != _TOKEN_MODIFIER:
                continue
            prev = tokens[i - 1] if i > 0 and tokens[i - 1].sentence == tok.sentence else None
            nxt = tokens[i + 1] if i + 1 < n and tokens[i + 1].sentence == tok.sentence else None
            ok_prev = prev is None or prev.kind == _TOKEN_MODIFIER or (
                prev.kind == _TOKEN_OTHER and (prev.text.lower() in stop or not prev.text[0].isalnum())
            )
            if not (ok_prev and nxt is not None and nxt.kind in (_TOKEN_NOUN, _TOKEN_MODIFIER)):
                tok.kind = _TOKEN_OTHER


def _candidates(text: str, tokens: list[_Token], language: str, stem, tagged: bool) -> dict[str, _Candidate]:
    weak = _WEAK_MODIFIERS.get(language, _WEAK_MODIFIERS["en"])
    cands: dict[str, _Candidate] = {}
    stems = [stem(t.text) if t.kind else "" for t in tokens]

    def add(run: list[int]) -> _Candidate:
        key = " ".join(stems[k] for k in run)
        first = tokens[run[0]]
        cand = cands.get(key)
        if cand is None:
            cand = cands[key] = _Candidate(
                key=key,
                words=tuple(stems[k] for k in run),
                surfaces=Counter(),
                first_token=run[0],
                first_offset=first.start,
                first_sentence=first.sentence,
            )
        cand.surfaces[tuple(tokens[k].text for k in run)] += 1
        if any(tokens[k].tag.startswith("VB") for k in run):
            cand.verbal = True
        cand.n_maximal += 1
        if first.heading:
            cand.in_heading = True
        return cand

    n = len(tokens)
    i = 0
    while i < n:
        if tokens[i].kind == _TOKEN_OTHER:
            i += 1
            continue
        j = i
        while j < n and tokens[j].kind and tokens[j].sentence == tokens[i].sentence:
            j += 1
        run = list(range(i, j))
        i = j
        if _SPLIT_VERB_S:
            # A plural noun inside a compound is unusual ("absorbs light", "RuBisCO fixes
            # carbon"): such an -s word before another phrase word is most likely a verb
            # the tagger missed.  Cut the run there and rescan the rest.
            # At the end of a run the same holds when a determiner or adverb follows
            # ("chlorophyll drives the splitting", "shade photosynthesises more slowly").
            nxt = tokens[j] if j < n and tokens[j].sentence == tokens[run[0]].sentence else None
            after = nxt.text.lower() if nxt else ""
            verb_context = after in _AFTER_VERB or (after.endswith("ly") and len(after) > 4)
            if not verb_context and nxt is not None and len(run) > 1:
                # "chlorophyll passes excited electrons": singular noun, -s word, then a
                # word that follows verbs rather than nouns.
                verb_context = nxt.tag in _TAGS_AFTER_VERB and tokens[run[-2]].tag in ("NN", "NNP")
            for pos in range(1, len(run)):
                tok = tokens[run[pos]]
                if (
                    (pos < len(run) - 1 or verb_context)
                    and tok.tag in ("NNS", "NNPS", "VBZ")
                    and tok.text.islower()
                    and tok.text not in _PLURAL_MODIFIERS
                    and not tok.text.endswith(("ss", "us", "is", "ics"))
                ):
                    i = run[pos] + 1
                    run = run[:pos]
                    break
        if language == "de" and not tagged:
            # German writes compounds as one word: two adjacent nouns are two concepts
            # ("aus Kohlendioxid und Wasser Glucose herstellen").
            for pos, k in enumerate(run):
                if tokens[k].kind == _TOKEN_NOUN:
                    if pos + 1 < len(run):
                        i = run[pos + 1]
                        run = run[: pos + 1]
                    break
        while run and tokens[run[-1]].kind != _TOKEN_NOUN:
            run.pop()
        while len(run) > 1 and tokens[run[0]].text.lower() in weak:
            run.pop(0)
        if len(run) > 1 and tokens[run[0]].text.lower() in _DOCUMENT_NOUNS and tokens[run[1]].text.lower().endswith("s"):
            run = run[:1]  # "paper considers" -> "paper"
        if not run:
            continue
        if len(run) > MAX_PHRASE_WORDS:
            run = run[-MAX_PHRASE_WORDS:]
        cand = add(run)
        # Context cues around this occurrence.
        start, end = tokens[run[0]].start, tokens[run[-1]].start + len(tokens[run[-1]].text)
        if not cand.definition:
            if _DEFINITION_AFTER.match(text, end) and _sentence_start_nearby(tokens, run[0]):
                cand.definition = True
            elif _DEFINITION_BEFORE.search(text, max(0, start - 30), start):
                cand.definition = True
        m = _ACRONYM_AFTER.match(text, end)
        if m and len(run) > 1 and _is_acronym_of(m.group(1), [tokens[k].text for k in run]):
            cand.acronym = m.group(1).rstrip("s") if m.group(1).endswith("s") and m.group(1)[:-1].isupper() else m.group(1)
    # Occurrences anywhere inside phrase-word runs (so "neural network" also counts
    # inside "recurrent neural network training").
    i = 0
    while i < n:
        if not tokens[i].kind:
            i += 1
            continue
        j = i
        while j < n and tokens[j].kind and tokens[j].sentence == tokens[i].sentence:
            j += 1
        for a in range(i, j):
            for b in range(a + 1, min(j, a + MAX_PHRASE_WORDS) + 1):
                cand = cands.get(" ".join(stems[a:b]))
                if cand is not None:
                    cand.n_total += 1
        i = j
    # Capitalised-word share (proper nouns, acronyms); not informative for German.
    for cand in cands.values():
        surface = cand.surfaces.most_common(1)[0][0]
        caps = sum(1 for w in surface if w[:1].isupper())
        cand.proper_share = caps / len(surface) if language == "en" else 0.0
    return cands


def _sentence_start_nearby(tokens: list[_Token], k: int) -> bool:
    """True if only an article or punctuation stands between token k and its sentence start."""
    s = tokens[k].sentence
    for j in range(k - 1, max(-1, k - 4), -1):
        if tokens[j].sentence != s:
            return True
        if tokens[j].text[0].isalnum() and tokens[j].text.lower() not in _ARTICLES:
            return False
    return k < 3 or tokens[k - 3].sentence != s


_ARTICLES = frozenset("the a an der die das ein eine".split())


def _is_acronym_of(acronym: str, words: list[str]) -> bool:
    letters = [c for c in acronym if c.isupper()]
    if len(letters) < 2:
        return False
    initials = "".join(part[0] for w in words for part in re.split(r"[-/]", w) if part).upper()
    # Acronym letters must appear in order among the initials, first letters matching.
    if initials[:1] != letters[0]:
        return False
    pos = 0
    for c in letters:
        pos = initials.find(c, pos)
        if pos < 0:
            return False
        pos += 1
    return True


# --------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------

# Feature order for the linear model; see _features().
_FEATURES = (
    "word_degree",  # log(sum of stem degrees / max over candidates)
    "len1", "len3", "len4plus",  # one-hot phrase length (2 words is the reference)
    "log_maximal",  # log(occurrences as a maximal noun phrase + acronym mentions)
    "log_total",  # log(all occurrences, nested included)
    "heading",  # appears in a heading / title
    "log_first_token",  # log(1 + index of the first token)
    "log_first_sentence",  # log(1 + index of the first sentence)
    "generic",  # single generic word ("paper", "results")
    "common_share",  # share of words in the common-English vocabulary (tagger's)
    "common_head",  # head word is common English
    "proper_share",  # share of capitalised words
    "acronym_word",  # single all-caps word ("DNA")
    "max_word_tf",  # log of the largest term frequency among its stems
    "definition",  # "X is a ...", "called X", "X (ABC)"
    "verbal",  # contains a participle modifier ("distributed systems")
    "single_common",  # a single common-English word ("model", "system", "problem")
)

# Logistic-regression weights fitted once (Newton's method, L2 1e-3) on a development
# subset of Inspec (the first 1000 documents by numeric id; the other 1000 were held out).
# Then a small, fixed "study material" prior was added by hand: single words are penalised
# less (len1 -1.44 -> -1.0) and repetition counts more (log_total -0.15 -> +0.05), because in lecture
# notes a term repeated throughout ("chlorophyll") is a key idea even when it is one word,
# whereas Inspec's indexers favour 2-3 word phrases.  On Inspec this changes F1@10 by less
# than 0.003 (dev -0.003, held-out +0.001).
# "tagged" is used with the English POS tagger; "untagged" when the tagger model is missing
# (its vocabulary/participle features are then always 0); German uses "untagged" with its
# own length prior, since German writes compounds as one word ("Lichtenergie").
# No phrase or word from the dataset is stored, only these numbers.
_WEIGHTS_TAGGED = dict(
    word_degree=0.198, len1=-1.0, len3=0.217, len4plus=-0.165, log_maximal=0.687,
    log_total=0.048, heading=0.4, log_first_token=-0.149, log_first_sentence=-0.180,
    generic=-0.856, common_share=-0.676, common_head=0.013, proper_share=-0.119,
    acronym_word=0.076, max_word_tf=-0.152, definition=1.2, verbal=-0.897,
    single_common=-0.560,
)
_WEIGHTS_UNTAGGED = dict(
    word_degree=0.233, len1=-1.716, len3=-0.085, len4plus=-0.711, log_maximal=0.457,
    log_total=0.219, heading=0.440, log_first_token=-0.037, log_first_sentence=-0.340,
    generic=-0.707, common_share=0.0, common_head=0.0, proper_share=0.364,
    acronym_word=0.358, max_word_tf=-0.065, definition=0.479, verbal=0.0, single_common=0.0,
)
# German: untuned (no German benchmark here); a single compound noun is the typical concept.
_WEIGHTS_GERMAN = dict(_WEIGHTS_UNTAGGED, len1=-0.3, proper_share=0.0)
_BIAS = {"tagged": 1.013, "untagged": -0.092, "german": -0.092}

# A sub-phrase of a phrase already chosen needs this much more logit to be listed too.
_REDUNDANCY_PENALTY = 0.3


def _features(
    cands: dict[str, _Candidate], tokens: list[_Token], language: str, vocabulary, stem
) -> dict[str, list[float]]:
    """Feature vectors (in ``_FEATURES`` order) of every candidate."""
    term_freq = Counter(stem(t.text) for t in tokens if t.kind)
    # RAKE-style degree: how many phrase words each stem co-occurs with, weighted by count.
    degree: Counter = Counter()
    for cand in cands.values():
        for w in cand.words:
            degree[w] += len(cand.words) * cand.n_maximal
    phrase_degree = {k: sum(degree[w] for w in c.words) for k, c in cands.items()}
    max_degree = max(phrase_degree.values(), default=1) or 1
    generic = _GENERIC_WORDS.get(language, _GENERIC_WORDS["en"])
    # Mentions of a defined acronym ("... semantics (IBS) ... IBS ...") count for the long form.
    acronym_counts: Counter = Counter()
    acronyms = {c.acronym for c in cands.values() if c.acronym}
    if acronyms:
        for tok in tokens:
            word = tok.text
            if word not in acronyms and word.endswith("s") and word[:-1] in acronyms:
                word = word[:-1]
            if word in acronyms:
                acronym_counts[word] += 1
    out: dict[str, list[float]] = {}
    for key, cand in cands.items():
        n = len(cand.words)
        surface = cand.surfaces.most_common(1)[0][0]
        lower = [w.lower() for w in surface]
        extra = acronym_counts[cand.acronym] if cand.acronym else 0
        common = [1.0 if w in vocabulary else 0.0 for w in lower] if vocabulary else [0.0] * n
        out[key] = [
            math.log(phrase_degree[key] / max_degree),
            float(n == 1),
            float(n == 3),
            float(n >= 4),
            math.log(cand.n_maximal + extra),
            math.log(max(cand.n_total, cand.n_maximal) + extra),
            float(cand.in_heading),
            math.log(1 + cand.first_token),
            math.log(1 + cand.first_sentence),
            float(n == 1 and lower[0] in generic),
            sum(common) / n,
            common[-1],
            cand.proper_share,
            float(n == 1 and surface[0].isupper() and len(surface[0]) > 1),
            max(math.log(term_freq[w]) for w in cand.words),
            float(cand.definition or cand.acronym is not None),
            float(cand.verbal),
            float(n == 1) * common[0],
        ]
    return out


def _proper_words(tokens: list[_Token]) -> set[str]:
    """Capitalised words that look like names: capitalised mid-sentence, never lower-case."""
    lower = {t.text for t in tokens if t.text.islower()}
    return {
        t.text
        for t in tokens
        if t.text[:1].isupper() and not t.sentence_initial and not t.heading and t.text.lower() not in lower
    }


def _display_form(cand: _Candidate, proper: set[str], language: str) -> str:
    """Most frequent surface form; capitals only due to sentence/title position are undone."""
    surface = min(cand.surfaces.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    if language == "de":
        return " ".join(surface)
    return " ".join(
        w.lower() if w[:1].isupper() and w[1:].islower() and w not in proper else w for w in surface
    )


@dataclass
class _Analysis:
    language: str
    tagged: bool
    tokens: list[_Token]
    candidates: dict[str, _Candidate]
    features: dict[str, list[float]]


def _analyse(text: str, language: str) -> _Analysis:
    tokens, tagged = _tokens(text, language)
    _classify(tokens, language, tagged)
    stem = _stem_function(language)
    cands = _candidates(text, tokens, language, stem, tagged)
    tagger = _get_tagger() if tagged else None
    feats = _features(cands, tokens, language, tagger.vocabulary if tagger else None, stem)
    return _Analysis(language, tagged, tokens, cands, feats)


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def extract_keyphrases(text: str, *, top: int = 10, language: str | None = None) -> list[Keyphrase]:
    """Return up to ``top`` key phrases of ``text``, best first.

    ``language``: "en" or "de"; ``None`` guesses from stopwords; anything else is treated
    as English.  Empty or whitespace-only input (or ``top <= 0``) returns ``[]``.
    Deterministic: the same input always gives the same output.
    """
    if not text or top <= 0 or text.isspace():
        return []
    if language is None:
        language = guess_language(text)
    elif language not in SUPPORTED_LANGUAGES:
        language = "en"
    analysis = _analyse(text, language)
    if not analysis.candidates:
        return []
    mode = "tagged" if analysis.tagged else ("german" if language == "de" else "untagged")
    weights = {"tagged": _WEIGHTS_TAGGED, "untagged": _WEIGHTS_UNTAGGED, "german": _WEIGHTS_GERMAN}[mode]
    bias = _BIAS[mode]
    wvec = [weights[name] for name in _FEATURES]
    scored = sorted(
        (
            (bias + sum(w * x for w, x in zip(wvec, fv)), analysis.candidates[key])
            for key, fv in analysis.features.items()
        ),
        key=lambda item: (-item[0], item[1].first_offset, item[1].key),
    )
    chosen = _select(scored, top)
    proper = _proper_words(analysis.tokens)
    return [
        Keyphrase(
            phrase=_display_form(cand, proper, language),
            score=1.0 / (1.0 + math.exp(-logit)),
            count=max(cand.n_total, cand.n_maximal),
            first_offset=cand.first_offset,
        )
        for logit, cand in chosen
    ]


def _select(scored: list[tuple[float, _Candidate]], top: int) -> list[tuple[float, _Candidate]]:
    """Greedy top list: a sub-phrase of an already chosen phrase loses some logit.

    Returns (adjusted logit, candidate) pairs; the adjusted logits never increase.
    """
    pool = scored[: top * 4 + 20]
    chosen: list[tuple[float, _Candidate]] = []
    while pool and len(chosen) < top:
        best_index, best_value = -1, -math.inf
        for index, (logit, cand) in enumerate(pool):
            penalised = any(_contains(other.words, cand.words) for _, other in chosen)
            value = logit - _REDUNDANCY_PENALTY if penalised else logit
            if value > best_value:
                best_index, best_value = index, value
            if not penalised:
                break  # the pool is sorted: nothing later can beat this one
        chosen.append((best_value, pool.pop(best_index)[1]))
    return chosen


def _contains(big: tuple[str, ...], small: tuple[str, ...]) -> bool:
    n = len(small)
    if n >= len(big):
        return False
    return any(big[i : i + n] == small for i in range(len(big) - n + 1))
