"""Tests for studyapp.ai.text (pure Python, no Django)."""

import pytest

from studyapp.ai.text import (
    Sentence,
    estimate_tokens,
    guess_language,
    iter_tokens,
    sentences,
    split_sentences,
    stopwords,
    tokenize,
)

# --------------------------------------------------------------------------------------
# Sentence splitting
# --------------------------------------------------------------------------------------


def test_abbreviations_eg_and_figure_references():
    text = (
        "Plants need light, e.g. sunlight, to grow. The curve is shown in Fig. 2. "
        "It rises steeply (see Fig. 3) and flattens later. Dr. Smith and Prof. Jones "
        "measured it, i.e. they counted leaves."
    )
    assert split_sentences(text) == [
        "Plants need light, e.g. sunlight, to grow.",
        "The curve is shown in Fig. 2.",
        "It rises steeply (see Fig. 3) and flattens later.",
        "Dr. Smith and Prof. Jones measured it, i.e. they counted leaves.",
    ]


def test_decimals_initials_acronyms_and_et_al():
    text = (
        "The rate was 3.5 times higher than in 2019. J. R. Smith et al. confirmed it. "
        "The U.S. Army funded the work. Was it worth it? Yes!"
    )
    assert split_sentences(text) == [
        "The rate was 3.5 times higher than in 2019.",
        "J. R. Smith et al. confirmed it.",
        "The U.S. Army funded the work.",
        "Was it worth it?",
        "Yes!",
    ]


def test_lowercase_after_period_does_not_split_and_quotes_close_sentences():
    text = 'He said "stop." Then he left. Costs rose approx. ten percent.'
    assert split_sentences(text) == ['He said "stop."', "Then he left.", "Costs rose approx. ten percent."]


def test_german_abbreviations_and_ordinals():
    text = (
        "Am 3. Mai begann der 2. Versuch. Pflanzen brauchen Licht, z. B. Sonnenlicht. "
        "Das gilt u.a. für Algen, d.h. auch im Wasser. Die Zelle ist klein."
    )
    assert split_sentences(text, "de") == [
        "Am 3. Mai begann der 2. Versuch.",
        "Pflanzen brauchen Licht, z. B. Sonnenlicht.",
        "Das gilt u.a. für Algen, d.h. auch im Wasser.",
        "Die Zelle ist klein.",
    ]


def test_headings_bullets_and_paragraphs():
    text = (
        "Photosynthesis Basics\n\n"
        "Plants make sugar. They need light\n"
        "and water to do it.\n"
        "• Light reactions\n"
        "• Calvin cycle\n"
        "2.1 Chlorophyll\n"
        "Chlorophyll is green.\n"
    )
    result = sentences(text)
    assert [s.text for s in result] == [
        "Photosynthesis Basics",
        "Plants make sugar.",
        "They need light and water to do it.",
        "• Light reactions",
        "• Calvin cycle",
        "2.1 Chlorophyll",
        "Chlorophyll is green.",
    ]
    assert [s.heading for s in result] == [True, False, False, False, False, True, False]


def test_wrapped_title_is_one_heading():
    text = (
        "A unified view of vector rotation algorithms and architectures based\n"
        "\ton angle quantization\r\n"
        "Vector rotation is a key operation. It is used widely."
    )
    result = sentences(text)
    assert result[0].heading
    assert result[0].text == (
        "A unified view of vector rotation algorithms and architectures based on angle quantization"
    )
    assert [s.text for s in result[1:]] == ["Vector rotation is a key operation.", "It is used widely."]


def test_sentence_offsets_point_into_the_original_text():
    text = "  First one.   Second\n one with Fig. 4 inside!\n\nThird."
    result = sentences(text)
    assert len(result) == 3
    for s in result:
        assert isinstance(s, Sentence)
        assert " ".join(text[s.start : s.end].split()) == s.text
    assert result[0].start == 2


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_input(text):
    assert sentences(text) == []
    assert split_sentences(text) == []
    assert tokenize(text) == []


def test_sentence_splitting_is_linear_on_text_without_line_breaks():
    import time

    text = "The cell divides. " * 20000  # 360k characters, one line
    start = time.perf_counter()
    result = split_sentences(text)
    assert len(result) == 20000
    assert time.perf_counter() - start < 10


# --------------------------------------------------------------------------------------
# Tokenisation and token estimate
# --------------------------------------------------------------------------------------


def test_tokenize_keeps_hyphens_apostrophes_decimals_and_umlauts():
    assert tokenize("Real-time C++ systems don't fail; 3.14 and 2,5 Größen-Maße.") == [
        "Real-time",
        "C++",
        "systems",
        "don't",
        "fail",
        "3.14",
        "and",
        "2,5",
        "Größen-Maße",
    ]
    assert tokenize("a, b.", punctuation=True) == ["a", ",", "b", "."]


def test_iter_tokens_offsets():
    text = "Hello, world"
    assert list(iter_tokens(text)) == [("Hello", 0, 5), ("world", 7, 12)]


def test_estimate_tokens():
    assert estimate_tokens("") == 0
    assert estimate_tokens("   ") == 0
    assert estimate_tokens("word") == 2  # max(1 * 1.3, 4 / 4) rounded up
    english = "The quick brown fox jumps over the lazy dog. " * 100
    words = len(tokenize(english))
    assert estimate_tokens(english) == pytest.approx(words * 1.3, rel=0.05)
    # Long German compounds: the character rule dominates.
    german = "Donaudampfschifffahrtsgesellschaftskapitän " * 10
    assert estimate_tokens(german) >= len(german) / 4
    assert estimate_tokens(english * 2) > estimate_tokens(english)


# --------------------------------------------------------------------------------------
# Stopwords and language guess
# --------------------------------------------------------------------------------------


def test_stopwords():
    en, de = stopwords("en"), stopwords("de")
    assert {"the", "and", "of", "which"} <= en
    assert {"der", "und", "nicht", "über"} <= de
    assert "photosynthesis" not in en and "zelle" not in de
    assert stopwords("fr") == en  # unknown languages fall back to English
    assert all(w == w.lower() and w.strip() == w for w in en | de)


def test_guess_language():
    assert guess_language("The cell is the basic unit of life and it divides.") == "en"
    assert guess_language("Die Zelle ist die kleinste Einheit des Lebens und sie teilt sich.") == "de"
    assert guess_language("") == "en"
    assert guess_language("12345 67890", default="de") == "de"
    mixed = "Die Photosynthese ist ein Prozess. " * 3 + "It is a process."
    assert guess_language(mixed) == "de"
