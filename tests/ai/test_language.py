"""The document's language, detected offline, and the one sentence for a language a provider
does not write in."""

from __future__ import annotations

import pytest

from studyapp.ai.errors import UnsupportedLanguage
from studyapp.ai.language import check_language, detect_language

LONG = {
    "en": "The cell membrane separates the interior of the cell from its environment. It is made of a "
          "lipid bilayer in which proteins are embedded, and it controls what enters and leaves the cell.",
    "de": "Die Zellmembran trennt das Innere der Zelle von ihrer Umgebung. Sie besteht aus einer "
          "Lipiddoppelschicht, in die Proteine eingebettet sind, und sie regelt, was in die Zelle gelangt.",
    "fr": "La membrane cellulaire sépare l'intérieur de la cellule de son environnement. Elle est formée "
          "d'une bicouche lipidique dans laquelle sont insérées des protéines, et elle contrôle les échanges.",
    "es": "La membrana celular separa el interior de la célula de su entorno. Está formada por una bicapa "
          "lipídica en la que se insertan proteínas, y controla lo que entra y sale de la célula.",
}
SHORT = {
    "en": "The cell is the unit of life and it has a membrane.",
    "de": "Die Zelle ist die Einheit des Lebens und hat eine Membran.",
    "fr": "La cellule est l'unité du vivant et elle a une membrane.",
    "es": "La célula es la unidad de la vida y tiene una membrana.",
}


@pytest.mark.parametrize("language", sorted(LONG))
def test_it_detects_the_language_of_a_paragraph(language):
    assert detect_language(LONG[language]) == language


@pytest.mark.parametrize("language", sorted(SHORT))
def test_it_detects_the_language_of_one_sentence(language):
    assert detect_language(SHORT[language]) == language


def test_a_few_words_fall_back_to_the_stopword_guess():
    assert detect_language("Mitochondria produce ATP.") == "en"
    assert detect_language("Die Zelle") == "de"


def test_an_unsupported_language_gets_one_clear_sentence():
    with pytest.raises(UnsupportedLanguage) as raised:
        check_language(frozenset({"en", "de"}), "it", "Quizzes are written for documents")
    assert str(raised.value) == "Quizzes are written for documents in English and German; this document is in Italian."
    check_language(frozenset({"en", "de"}), "de", "Quizzes are written for documents")
    check_language(None, "it", "Quizzes are written for documents")  # a provider that writes in any language
