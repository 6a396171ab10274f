"""Builds samples/cell-biology-notes.pdf, the demo document (run: python samples/make_sample.py).

Short lecture notes written for studyapp's demo: definitions, parts, causes and contrasts, so the
pipeline has real ideas to find. Drawn with the fixture PDF writer (Helvetica text layer).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.make_pdfs import text_pdf  # noqa: E402

PAGES = [
    """Introduction to Cell Biology - Lecture Notes, Week 1

    1. The cell
    The cell is the basic unit of life. All living organisms are made of one or more cells,
    and every cell arises from an existing cell by cell division. This idea is called the
    cell theory. Prokaryotic cells, such as bacteria, have no nucleus. Eukaryotic cells,
    such as animal cells and plant cells, keep their DNA inside a nucleus.

    2. The plasma membrane
    The plasma membrane is a thin layer that separates the inside of the cell from its
    surroundings. It is made of a phospholipid bilayer with embedded proteins. The membrane
    is selectively permeable: small nonpolar molecules cross it freely, while ions need
    transport proteins. Diffusion is the movement of molecules from a region of high
    concentration to a region of low concentration. Osmosis is the diffusion of water
    across a selectively permeable membrane.
    """,
    """3. Organelles
    An organelle is a specialised structure inside a eukaryotic cell. The nucleus contains
    the chromosomes, which are made of DNA and proteins. The mitochondrion is the site of
    cellular respiration; it converts the energy stored in glucose into ATP. The chloroplast
    is the site of photosynthesis and is found in plant cells, not in animal cells.
    Ribosomes are part of every cell; they build proteins from amino acids. The endoplasmic
    reticulum and the Golgi apparatus modify, sort and ship proteins.

    4. Energy in the cell
    ATP is the energy currency of the cell. Cellular respiration breaks down glucose with
    oxygen and releases carbon dioxide, water and ATP. Photosynthesis is the reverse
    process: chloroplasts use light energy to build glucose from carbon dioxide and water,
    and release oxygen. Unlike cellular respiration, photosynthesis stores energy.
    """,
    """5. DNA and protein synthesis
    DNA is a double helix of two strands held together by base pairs. A gene is a segment
    of DNA that codes for a protein. Transcription copies a gene into messenger RNA in the
    nucleus. Translation reads the messenger RNA at a ribosome and joins amino acids into a
    protein. A mutation is a change in the DNA sequence; a mutation in a gene can cause a
    faulty protein.

    6. Cell division
    Mitosis is a type of cell division that produces two identical daughter cells. Meiosis,
    in contrast, produces four cells with half the number of chromosomes, for example
    sperm cells and egg cells. Uncontrolled cell division causes cancer.

    Review questions: What is the difference between mitosis and meiosis? Why do plant
    cells have both mitochondria and chloroplasts?
    """,
]


def lines_of(page: str) -> list[str]:
    """Headings stay on their own line; each paragraph is rewrapped to fit the page at 14 pt."""
    lines: list[str] = []
    for block in textwrap.dedent(page).strip().split("\n\n"):
        heading, _, body = block.strip().partition("\n")
        lines.append(heading.strip())
        if body.strip():
            lines.extend(textwrap.wrap(" ".join(body.split()), 68))
        lines.append("")
    return lines


if __name__ == "__main__":
    target = ROOT / "samples" / "cell-biology-notes.pdf"
    target.write_bytes(text_pdf([lines_of(page) for page in PAGES]))
    print(f"wrote {target}")
