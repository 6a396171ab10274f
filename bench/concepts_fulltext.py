#!/usr/bin/env python
"""F1@10 of `manage.py concepts` on whole research papers (Nguyen2007), next to YAKE under the same
scorer as bench/concepts_inspec.py (lower case, Porter stems, all gold phrases).

    .venv/bin/python bench/concepts_fulltext.py [path/to/Nguyen2007.zip] [--limit N] [--jobs 2]

The zip holds ``Nguyen2007/docsutf8/<id>.txt`` (a paper's text, title to references) and
``Nguyen2007/keys/<id>.key`` (its author and reader keyphrases, one a line). A paper is given to
our extractor as the concepts command reads a long document: laid out in pages of 50 lines, body
text only (regions.study_pages drops the title block, references and the rest), chunked and
merged. YAKE reads the whole text as it is, with its defaults.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from concepts_inspec import REPO_ROOT, TOP, _run_yake, f1_at_k, local_provider, normalise  # noqa: E402

DEFAULT_ZIP = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "datasets", "Nguyen2007.zip"))
LINES_PER_PAGE = 50

def load_papers(path: str) -> list[tuple[str, str, list[str]]]:
    """[(paper id, text, gold phrases)] in numeric id order."""
    papers = []
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for name in names:
            match = re.fullmatch(r"Nguyen2007/docsutf8/(\d+)\.txt", name)
            key = f"Nguyen2007/keys/{match.group(1)}.key" if match else ""
            if not match or key not in names:
                continue
            text = archive.read(name).decode("utf-8", "replace")
            gold = [" ".join(line.split()) for line in archive.read(key).decode("utf-8", "replace").splitlines()
                    if line.strip()]
            papers.append((match.group(1), text, gold))
    return sorted(papers, key=lambda paper: int(paper[0]))


def _run_ours(text: str) -> list[str]:
    provider = local_provider()
    from studyapp.cli.management.commands.concepts import document_concepts

    lines = text.split("\n")
    pages = [(str(i // LINES_PER_PAGE + 1), "\n".join(lines[i:i + LINES_PER_PAGE]))
             for i in range(0, len(lines), LINES_PER_PAGE)]
    return document_concepts(pages, provider, top=TOP, language="en")


def _score(paper: tuple[str, str, list[str]]) -> tuple[str, float, float, float, float]:
    paper_id, text, gold = paper
    started = time.perf_counter()
    ours = _run_ours(text)
    middle = time.perf_counter()
    theirs = _run_yake(text)
    ended = time.perf_counter()
    golden = {g for g in (normalise(x) for x in gold) if g}
    return paper_id, f1_at_k(ours, golden), f1_at_k(theirs, golden), middle - started, ended - middle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("zip", nargs="?", default=DEFAULT_ZIP)
    parser.add_argument("--limit", type=int, default=None, help="only the first N papers (default: all)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if not os.path.exists(args.zip):
        print(f"Nguyen2007 zip not found: {args.zip}", file=sys.stderr)
        return 2
    papers = load_papers(args.zip)[: args.limit]
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            rows = list(pool.map(_score, papers, chunksize=4))
    else:
        rows = [_score(paper) for paper in papers]
    ours, theirs = statistics.fmean(r[1] for r in rows), statistics.fmean(r[2] for r in rows)
    print(f"Nguyen2007 (whole papers) F1@{TOP} of `manage.py concepts` (local provider) vs yake defaults")
    print(f"(lower-case + Porter stem, all gold phrases), {len(rows)} papers, {args.jobs} processes, "
          f"{time.perf_counter() - started:.0f} s")
    print(f"  ours {ours:.4f}   yake {theirs:.4f}   ratio {ours / theirs:.2f}x" if theirs else f"  ours {ours:.4f}")
    print(f"  seconds per paper: ours {statistics.median(r[3] for r in rows):.2f}, "
          f"yake {statistics.median(r[4] for r in rows):.2f} (medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
