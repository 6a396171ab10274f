"""Cleaning the text before anything reads it: split words, detached accents, and the parts of a
page that study material must not come from. Rules are checked on real pages of the sample PDFs
and on one sentence that must pass and one that must not."""

from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.documents.extraction import ExtractionOptions, extract_pages
from studyapp.documents.hyphenation import Vocabulary, rejoin_split_words
from studyapp.documents.page_text import clean_text
from studyapp.documents.regions import Part, label_lines, study_pages

PDFS = Path(__file__).resolve().parents[1] / "fixtures" / "pdfs"


def pages_of(name: str) -> list[str]:
    return [page.text for page in extract_pages((PDFS / name).read_bytes(), options=ExtractionOptions(ocr=False))]


@pytest.fixture(scope="module")
def geotopo() -> list[str]:
    return pages_of("GeoTopo-komprimiert.pdf")


@pytest.fixture(scope="module")
def multicolumn() -> list[str]:
    return pages_of("multicolumn.pdf")


def rejoined(texts: list[str], language: str = "en") -> list[str]:
    vocabulary = Vocabulary(texts, language)
    return [rejoin_split_words(text, vocabulary) for text in texts]


# --- split words --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("the intermedi-\nate results", "the intermediate\nresults"),
    ("a struc-\ntural change", "a structural\nchange"),
    ("selec-\ntive inlining.", "selective\ninlining."),
    ("this is state-of-the-\nart work", "this is state-of-the-\nart work"),  # both halves are words
    ("intermedi-\nate, then", "intermediate,\nthen"),  # punctuation moves up with the word
    ("the Schwarz-\nWeiß picture", "the Schwarz-\nWeiß picture"),  # a compound of capitalised words
])
def test_words_split_at_a_line_end_are_joined_and_real_hyphens_kept(text, expected):
    assert rejoined([text])[0] == expected


def test_a_hyphenated_form_the_document_uses_inline_keeps_its_hyphen():
    pages = ["a stop-the-world collector", "we measured the stop-the-\nworld pauses"]
    assert rejoined(pages)[1] == pages[1]


def test_a_word_the_document_uses_elsewhere_is_joined_even_if_no_word_list_has_it():
    pages = ["Homöomorphismus ist ein Begriff.", "Ein Ho-\nmöomorphismus ist stetig."]
    assert rejoined(pages, "de")[1] == "Ein Homöomorphismus\nist stetig."


def test_the_real_splits_of_the_samples_are_joined(geotopo, multicolumn):
    german = rejoined(geotopo, "de")
    assert "Übungsaufgaben" in german[1] and "Übungsauf-\n" not in german[1]
    assert "Schwarz-\nWeiß" in german[1]
    latin = "\n".join(rejoined(multicolumn))
    for word in ("adipiscing", "consectetuer", "tristique", "Vestibulum", "Pellentesque"):
        assert word in latin
    assert "adip-\n" not in latin and "Pellen-\n" not in latin


def test_joining_is_idempotent(multicolumn):
    once = rejoined(multicolumn)
    assert rejoined(once) == once


# --- accents ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("na¨ıve", "naïve"), ("e´cole", "école"), ("Mo¨bius", "Möbius"), ("fa¸cade", "façade"),
    ("Erdo˝s", "Erdős"), ("café", "café"), ("x = 2", "x = 2"),
])
def test_detached_accents_are_put_back_on_their_letters(raw, expected):
    assert clean_text(raw) == expected


# --- parts of the page --------------------------------------------------------------------------

def labelled(pages: list[str]) -> list[list[tuple[str, Part]]]:
    return [list(zip(page.split("\n"), parts)) for page, parts in zip(pages, label_lines(pages))]


def test_running_heads_and_page_numbers_of_the_lecture_notes_are_furniture(geotopo):
    lines = labelled(geotopo)
    heads = [(line, part) for page in lines[6:40] for line, part in page if "1.2. METRISCHE RÄUME" in line
             or "1.3. STETIGKEIT" in line]
    assert heads and all(part is Part.FURNITURE for _, part in heads)
    # "Definition 7" heads a definition, not a page: a number that does not run with the pages.
    body = dict(lines[8])
    assert body["Definition 7"] is Part.BODY


def test_the_contents_of_the_lecture_notes_are_contents_and_the_index_is_index(geotopo):
    lines = labelled(geotopo)
    assert all(part is Part.CONTENTS for line, part in lines[3] if line.strip())
    tail = [part for page in lines[-5:] for line, part in page if line.strip()]
    assert tail.count(Part.INDEX) > 0.8 * len(tail)


def test_captions_end_where_the_caption_ends(geotopo):
    page = dict(labelled(geotopo)[2])
    assert page["Abbildung 0.1: Beispiele für verschiedene Formen"] is Part.CAPTION
    following = [line for line in page if line.startswith("Obwohl es nicht vorausgesetzt")]
    assert page[following[0]] is Part.BODY


def test_the_two_column_sample_loses_its_title_block_page_numbers_and_table(multicolumn):
    lines = labelled(multicolumn)
    first = dict(lines[0])
    assert first["Two-Column Document with Lorem Ipsum"] is Part.BODY  # the title stays, as a heading
    assert first["Your Name"] is Part.FRONT and first["January 3, 2024"] is not Part.BODY
    assert dict(lines[2])["Austria 8.9 83,879 Vienna German"] is Part.TABLE
    assert [page[-1][1] for page in lines] == [Part.FURNITURE] * 3


PAPER = [
    "Trace Trees for Dynamic Languages\nAnna Author Bob Writer\nUniversity of Somewhere\n"
    "anna@example.edu\nAbstract\nA trace tree records the hot loops of a program.\n"
    "Keywords: tracing, compilers,\njust-in-time compilation\n"
    "Permission to make digital or hard copies of all or part of this work\n1 Introduction\n"
    "A guard checks that a trace still applies.",
    "Figure 1: A trace tree with two side exits\nA side exit leaves the trace when a guard fails.\n"
    "References\n[1] A. Gal, B. Eich. Trace-based just-in-time type specialization. In PLDI, 2009.\n"
    "[2] M. Bebenita et al. SPUR: a trace-based JIT compiler. In OOPSLA, pp. 708-725, 2010.",
]


def test_a_papers_front_matter_keywords_captions_and_references_are_not_studied():
    studied = "\n".join(text for _, text in study_pages([("1", PAPER[0]), ("2", PAPER[1])]))
    assert "A trace tree records the hot loops of a program." in studied
    assert "A guard checks that a trace still applies." in studied
    assert "A side exit leaves the trace when a guard fails." in studied
    assert studied.startswith("Trace Trees for Dynamic Languages")  # the title stays
    for junk in ("Anna Author", "University", "anna@", "Keywords", "just-in-time compilation",
                 "Permission", "Figure 1", "Gal", "Bebenita", "References"):
        assert junk not in studied, junk


def test_references_end_where_the_next_chapter_begins():
    chapter = "The next chapter explains how a collector finds live objects.\nIt starts from the roots."
    pages = ["Body text of the first chapter.\nReferences\n[1] A. Author. A book. Press, 2001.", chapter]
    labels = label_lines(pages)
    assert labels[0][-1] is Part.REFERENCES and labels[1] == [Part.BODY, Part.BODY]


def test_a_sentence_that_names_a_university_is_body_text():
    pages = ["Introduction\nThe project is a joint effort of the University of North Carolina and others."]
    assert label_lines(pages)[0][1] is Part.BODY


def test_study_text_is_verbatim_on_its_page(geotopo):
    for label, text in study_pages([(str(i), t) for i, t in enumerate(geotopo)]):
        for paragraph in text.split("\n\n"):
            assert paragraph.strip("\n") in geotopo[int(label)]


@pytest.mark.django_db
def test_finishing_a_document_joins_its_split_words_from_the_whole_documents_vocabulary(django_user_model):
    from studyapp.documents.models import Document, DocumentPage
    from studyapp.documents.services import document_finish

    owner = django_user_model.objects.create_user("ada", password="x")
    document = Document.objects.create(owner=owner, title="t", sha256="0" * 64, size=1, page_count=2)
    texts = ["Ein Homöomorphismus ist stetig.", "Jeder Ho-\nmöomorphismus ist bijektiv. Schwarz-\nWeiß."]
    for index, text in enumerate(texts):
        DocumentPage.objects.create(document=document, index=index, label=str(index + 1), text=text, source="text")
    document_finish(document=document)
    assert document.pages.get(index=1).text == "Jeder Homöomorphismus\nist bijektiv. Schwarz-\nWeiß."
    document_finish(document=document)  # a retried finish changes nothing more
    assert document.pages.get(index=1).text == "Jeder Homöomorphismus\nist bijektiv. Schwarz-\nWeiß."


def test_a_first_page_without_an_abstract_keeps_its_title_but_not_the_rest_of_the_block():
    page = ("Introduction to Cell Biology\nLecture Notes, Week 1\n1. The cell\n"
            "The cell is the basic unit of life. All living organisms are made of cells.")
    assert label_lines([page])[0] == [Part.BODY, Part.FRONT, Part.BODY, Part.BODY]


def test_the_authors_a_document_cites_are_known_by_their_surnames():
    from studyapp.documents.regions import cited_people

    pages = ["Trace trees were proposed by Gal et al. and extended by Bebenita and Franz [12].\n"
             "A Markov chain [5] models the arrivals; Smith (2001) measured them.",
             "References\n[1] A. Gal, B. Eich. Trace-based compilation. In PLDI, 2009.\n"
             "[2] Chang, M., Smith, E. Tracing for the web. 2007."]
    assert cited_people(pages) == {"Gal", "Bebenita", "Franz", "Smith", "Eich", "Chang"}
