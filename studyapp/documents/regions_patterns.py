"""The patterns regions.py labels lines with, in English, German, French and Spanish."""

from __future__ import annotations

import re


def _heading(words: str) -> re.Pattern:
    """A line that is only this heading, perhaps numbered ("7 References", "VI. BIBLIOGRAPHY")."""
    return re.compile(rf"^(?:[\dIVXivx]+\.?\s+|[A-Z]\.\s+)?(?:{words})\s*:?$", re.IGNORECASE)


# A number that starts or ends a line (where running heads put the page number).
OUTER_NUMBER = re.compile(r"^(\d{1,4})\s|\s(\d{1,4})$")
LETTER_OR_DIGIT = re.compile(r"[^\W_]")
PAGE_NUMBER = re.compile(
    r"^[\W_]*(?:(?:page|seite|p\.|s\.|página|pág\.)\s*)?(?:\d{1,4}|[ivxlcdm]{1,7})"
    r"(?:\s*(?:of|/|von|sur|de)\s*\d{1,4})?[\W_]*$",
    re.IGNORECASE,
)

# Where the body of a paper starts on its first page: what comes before is the title block.
BODY_START = _heading(
    r"abstract|summary|introduction|zusammenfassung|kurzfassung|einleitung|einführung|résumé|resume"
    r"|introduction générale|resumen|introducción|sumario"
)
# An abstract run into its first sentence ("Abstract—We present ...", "Abstract. This paper ...").
INLINE_ABSTRACT = re.compile(r"^(?:abstract|zusammenfassung|résumé|resumen)\s*[.:—–-]\s*\S", re.IGNORECASE)
AFFILIATION = re.compile(
    r"\b(?:universit(?:y|ät|é|at|à|ad)|institut(?:e|o)?|department|dept\.|fakultät|faculté|facultad"
    r"|laborator(?:y|ies|ium|io)|laboratoire|school of|college|hochschule|école|escuela|inc\.|gmbh|ltd\."
    r"|corporation|research (?:center|centre|lab))\b",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\{[\w.,\s]+\}@")
LEGAL = re.compile(
    r"©|\bcopyright\b|all rights reserved|permission to make digital|\bisbn\b|\bissn\b|\bdoi:|arxiv:\d"
    r"|alle rechte vorbehalten|tous droits réservés|todos los derechos reservados"
    r"|licensed under|creative commons",
    re.IGNORECASE,
)
KEYWORDS = re.compile(
    r"^\s*(?:keywords?|key words|index terms|general terms|categories and subject descriptors"
    r"|schlüsselwörter|schlagwörter|mots[- ]clés|palabras clave|acm classification|msc)\b",
    re.IGNORECASE,
)

CONTENTS_HEADING = _heading(
    r"(?:table of )?contents|inhalt|inhaltsverzeichnis|table des matières|sommaire|índice|contenido|contenidos"
)
DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*[\dIVXivx]+\s*$|…{2,}\s*\d+\s*$")
ENDS_WITH_PAGE = re.compile(r"\s\d{1,4}(?:[-–]\d{1,4})?\s*$|(?:\.\s?){3,}\s*\d+\s*$")

REFERENCES_HEADING = _heading(
    r"references|bibliography|works cited|literature cited|literature|references and notes|notes and references"
    r"|literatur|literaturverzeichnis|quellen|quellenverzeichnis"
    r"|références|références bibliographiques|bibliographie|referencias|bibliografía|referencias bibliográficas"
)
APPENDIX_HEADING = re.compile(
    r"^(?:[A-Z]\.?\s+)?(?:appendix|appendices|anhang|annexe|annexes|apéndice|anexo)\b.{0,80}$", re.IGNORECASE
)
# A line of a reference list: "[12] ...", "12. Smith", "Smith, J.", "et al.", a year, a venue word.
REFERENCE_LINE = re.compile(
    r"^\s*\[\d{1,3}\]|^\s*\d{1,3}\.\s+[A-Z]|^\s*[A-Z][\w'’-]+,\s+(?:[A-Z]\.\s?)+|\bet al\b|\(\d{4}[a-z]?\)"
    r"|\b(?:19|20)\d\d[a-z]?[.,)]|\bpp\.\s*\d|\bproc(?:eedings|\.)|\bjournal\b|\bconference\b|\bvol\.\s*\d"
    r"|\bin:\s|\bhttps?://|\bdoi\b|\bpress\b|\bverlag\b|\béditions?\b|\beditorial\b",
    re.IGNORECASE,
)
INDEX_HEADING = _heading(r"index|subject index|register|stichwortverzeichnis|sachverzeichnis|index alphabétique"
                         r"|índice alfabético|índice analítico")

CAPTION = re.compile(
    r"^(?:figure|fig\.|table|tab\.|abbildung|abb\.|tabelle|tableau|tabla|figura|listing|algorithm|algorithmus"
    r"|algorithme|algoritmo|graph|chart|diagramm|schéma|esquema)\s*[\dIVX]+(?:[.\-]\d+)*\s*[:.](?:\s|$)",
    re.IGNORECASE,
)
SUBFIGURE = re.compile(r"\([a-h]\)\s")
NUMBER_TOKEN = re.compile(r"^[(\[]?[-+±−]?[$€£]?\d[\d.,:/%–-]*[)\]]?[%*]?[,;]?$")

# An author cited in the text: "Gal et al.", "Gal and Franz [12]", "Gal & Franz (2009)".
CITED_AUTHOR = re.compile(
    r"\b([A-Z][a-zà-ÿ'’-]+)(?:\s+(?:and|und|et|y|&)\s+([A-Z][a-zà-ÿ'’-]+))?"
    r"(?:[ \t]+et\s+al\b|[ \t]*\((?:19|20)\d\d[a-z]?\)|[ \t]*\[\d+(?:\s*[,–-]\s*\d+)*\])")
# An author at the start of a reference: "[3] Gal, A.", "Gal, A., Franz, M.", "A. Gal, M. Franz".
REFERENCE_AUTHOR = re.compile(r"(?:^|\]\s*|,\s*|and\s+)([A-Z][a-zà-ÿ'’-]+),\s+(?:[A-Z]\.\s?)+|(?:[A-Z]\.\s?)+([A-Z][a-zà-ÿ'’-]+)[,.]")
