"""Which language a document is in, from py3langid's model (shipped in its wheel: offline).

The document's language is detected once, when its text is in (documents.services), and every
step after that asks the provider for material in that language. A provider that cannot write
in it says so in one sentence (`check_language`) instead of using another language's frames.
"""

from __future__ import annotations

from functools import lru_cache

from studyapp.ai.errors import UnsupportedLanguage
from studyapp.ai.text import guess_language

SAMPLE_CHARS = 20_000
MIN_LETTERS = 40  # below this the model guesses; the stopword ratio of ai.text is steadier
MIN_CONFIDENCE = 0.5


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def detect_language(text: str, *, default: str = "en") -> str:
    """The ISO 639-1 code of the text's language ("en", "de", "fr", "es", "it", ...)."""
    sample = text[:SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return guess_language(sample, default=default)
    code, confidence = _identifier().classify(sample)
    return code if confidence >= MIN_CONFIDENCE else guess_language(sample, default=default)


# The names the UI uses (in English, like the rest of the UI); py3langid knows 97 languages, a
# code not listed here is shown as its code.
_NAMES = dict(
    en="English", de="German", fr="French", es="Spanish", it="Italian", pt="Portuguese", nl="Dutch",
    la="Latin", sv="Swedish", da="Danish", no="Norwegian", nb="Norwegian", fi="Finnish", pl="Polish",
    cs="Czech", sk="Slovak", sl="Slovenian", hr="Croatian", hu="Hungarian", ro="Romanian", el="Greek",
    tr="Turkish", ru="Russian", uk="Ukrainian", bg="Bulgarian", ar="Arabic", he="Hebrew", fa="Persian",
    hi="Hindi", zh="Chinese", ja="Japanese", ko="Korean", id="Indonesian", vi="Vietnamese", ca="Catalan",
    eu="Basque", gl="Galician", et="Estonian", lv="Latvian", lt="Lithuanian",
)


def language_name(code: str) -> str:
    """ "fr" -> "French"."""
    return _NAMES.get(code, code)


def check_language(supported: frozenset[str] | None, language: str, material: str) -> None:
    """Raise UnsupportedLanguage unless `language` is among `supported` (None: any language).

    `material` starts the sentence: "Quizzes are written", "Concept graphs are built".
    """
    if supported is None or not language or language in supported:
        return
    names = sorted(language_name(code) for code in supported)
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    raise UnsupportedLanguage(f"{material} in {listed}; this document is in {language_name(language)}.")
