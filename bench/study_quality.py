"""What a student gets, counted: the concept graph, the quiz and explanations the `local` provider
writes for real documents, with a counter for every kind of junk (bench/quality_checks.py) and
precision@10 of the concepts against hand-written gold lists (tests/fixtures/gold_concepts.json).

Documents: every PDF in --pdfs (default ../shared/pdfs, else tests/fixtures/pdfs) that has a text
layer, and --papers whole research papers of the Nguyen2007 dataset (their text, laid out 50
lines a page, then finished like an upload: split words joined, language detected).

    .venv/bin/python bench/study_quality.py [--pdfs DIR] [--papers 6] [--dataset ZIP] [--show]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shlex
import sys
import zipfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, bench_environment, machine_lines  # noqa: E402
import quality_checks as checks  # noqa: E402

SHARED = REPO.parent / "shared"
GOLD = REPO / "tests" / "fixtures" / "gold_concepts.json"
GOLD_PAPERS = ("29", "90", "114", "132")  # the papers with a gold list, always among those read
LINES_PER_PAGE = 50
QUESTION_TYPES = ["multiple_choice", "true_false", "fill_in_blank", "short_answer"]


def main() -> None:
    args = parse_args()
    print("$", shlex.join(["bench/study_quality.py", *sys.argv[1:]]))
    gold = json.loads(GOLD.read_text())
    with bench_environment("quality") as env:
        for line in machine_lines(env):
            print(line)
        from django.contrib.auth import get_user_model

        owner = get_user_model().objects.create(username="bench")
        documents = [*pdf_documents(Path(args.pdfs), owner), *paper_documents(Path(args.dataset), args.papers, owner)]
        rows = [evaluate(name, document, owner, gold.get(name), args.show) for name, document in documents]
    report(rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_pdfs = SHARED / "pdfs" if (SHARED / "pdfs").is_dir() else REPO / "tests" / "fixtures" / "pdfs"
    parser.add_argument("--pdfs", default=str(default_pdfs))
    parser.add_argument("--dataset", default=str(SHARED / "datasets" / "Nguyen2007.zip"))
    parser.add_argument("--papers", type=int, default=6)
    parser.add_argument("--show", action="store_true", help="print the top concepts and the questions")
    return parser.parse_args()


# --- documents --------------------------------------------------------------------------------------

def pdf_documents(folder: Path, owner):
    from studyapp.core.errors import StudyappError
    from studyapp.documents.extraction import ExtractionOptions
    from studyapp.documents.services import document_create, document_extract

    for pdf in sorted(folder.glob("*.pdf")):
        with pdf.open("rb") as fh:
            document, _ = document_create(owner=owner, upload=fh, filename=pdf.name)
        try:
            document_extract(document=document, options=ExtractionOptions(ocr=False))
        except StudyappError as exc:
            print(f"  skipped {pdf.name}: {exc}")
            continue
        yield pdf.name, document


def paper_documents(dataset: Path, count: int, owner):
    from studyapp.documents.models import Document, DocumentPage
    from studyapp.documents.services import document_finish

    if not dataset.is_file() or count <= 0:
        return
    with zipfile.ZipFile(dataset) as archive:
        texts = sorted(n for n in archive.namelist() if re.search(r"docsutf8/\d+\.txt$", n))
        ids = [re.search(r"(\d+)\.txt$", n).group(1) for n in texts]
        chosen = [*GOLD_PAPERS, *(i for i in ids if i not in GOLD_PAPERS)][:max(count, len(GOLD_PAPERS))]
        for paper in chosen:
            text = archive.read(f"Nguyen2007/docsutf8/{paper}.txt").decode("utf-8", "replace")
            lines = text.split("\n")
            pages = ["\n".join(lines[i:i + LINES_PER_PAGE]) for i in range(0, len(lines), LINES_PER_PAGE)]
            document = Document.objects.create(
                owner=owner, title=lines[0][:200], sha256=hashlib.sha256(text.encode()).hexdigest(),
                size=len(text), page_count=len(pages), status=Document.Status.PROCESSING)
            DocumentPage.objects.bulk_create(
                DocumentPage(document=document, index=i, label=str(i + 1), text=page, source="text")
                for i, page in enumerate(pages))
            document_finish(document=document)
            yield f"nguyen2007/{paper}", Document.objects.get(pk=document.pk)


# --- one document -----------------------------------------------------------------------------------

def evaluate(name: str, document, owner, gold: list[str] | None, show: bool) -> dict:
    from studyapp.ai.providers import get_provider
    from studyapp.core.errors import PermanentError
    from studyapp.graphs.services import document_pages, graph_build, graph_get_or_create

    provider = get_provider("local", "local-1")
    raw = "\n".join(document.pages.order_by("index").values_list("text", flat=True))
    study = "\n".join(text for _, text in document_pages(document))
    row = {"name": name, "language": document.language, "pages": document.pages.count(), "refused": "",
           "concept_junk": Counter(), "relations": Counter(), "forms": Counter(), "question_junk": Counter(),
           "questions": 0, "explained": 0, "explanations": 0, "p10": None, "top": []}
    graph = graph_get_or_create(document=document, provider=provider.name, model=provider.model)
    try:
        graph_build(graph=graph, provider=provider)
    except PermanentError as exc:
        row["refused"] = str(exc)
        return row
    top = list(graph.concepts.order_by("-importance", "name")[:20])
    row["top"] = [c.name for c in top]
    for concept in top:
        junk = checks.concept_junk(concept.name, raw, study, document.language)
        row["concept_junk"].update(junk)
        if show and junk:
            print(f"  junk concept {concept.name!r}: {', '.join(junk)}")
    row["relations"].update(graph.relations.values_list("type", flat=True))
    if gold:
        row["p10"] = precision_at_10([c.name for c in top[:10]], gold)
    _quiz(row, document, owner, provider, study, show)
    _explanations(row, graph, provider)
    if show:
        print(f"\n{name} ({document.language}): {', '.join(row['top'])}")
        for relation in graph.relations.exclude(type="related_to").select_related("source", "target")[:12]:
            print(f"  relation: {relation.source.name} {relation.type} {relation.target.name} | {relation.quote[:150]}")
    return row


def _quiz(row: dict, document, owner, provider, study: str, show: bool) -> None:
    from studyapp.core.errors import PermanentError
    from studyapp.quizzes.services import quiz_create, quiz_generate

    quiz, _ = quiz_create(document=document, owner=owner, count=10, types=QUESTION_TYPES,
                          provider=provider.name, model=provider.model)
    try:
        quiz_generate(quiz=quiz, provider=provider)
    except PermanentError as exc:
        row["refused"] = f"quiz: {exc}"
        return
    for question in quiz.questions.order_by("position"):
        row["questions"] += 1
        row["forms"][checks.question_form(question)] += 1
        junk = checks.question_junk(question, study)
        row["question_junk"].update(junk)
        if show:
            print(f"  [{question.type}] {question.prompt} -> {question.answer} {question.options or ''} {junk or ''}")


def _explanations(row: dict, graph, provider, pairs: int = 3) -> None:
    from studyapp.graphs.explanations import explanation_create

    seen = set()
    relations = sorted(graph.relations.select_related("source", "target"), key=lambda r: r.type == "related_to")
    for relation in relations:
        key = frozenset((relation.source_id, relation.target_id))
        if key in seen:
            continue
        seen.add(key)
        explanation, _ = explanation_create(graph=graph, source=relation.source, target=relation.target,
                                            provider=provider)
        row["explanations"] += 1
        row["explained"] += checks.states_link(explanation.text, relation.source.name, relation.target.name)
        if len(seen) == pairs:
            break


def precision_at_10(names: list[str], gold: list[str]) -> float:
    """A concept counts when its words (stems) are those of a gold idea, or include them."""
    golden = [_stems(g) for g in gold]
    hits = sum(1 for name in names if any(g and g <= _stems(name) for g in golden))
    return hits / 10


def _stems(text: str) -> frozenset[str]:
    return frozenset(w[:5] for w in re.findall(r"[^\W_]+", text.lower()))


# --- the report -------------------------------------------------------------------------------------

def report(rows: list[dict]) -> None:
    print("\n| document | lang | pages | top-20 junk | relations by type | questions by form | question junk "
          "| explanations stating the link | P@10 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if row["refused"] and not row["top"]:
            print(f"| {row['name']} | {row['language']} | {row['pages']} | refused: {row['refused']} ||||||")
            continue
        p10 = "" if row["p10"] is None else f"{row['p10']:.1f}"
        print(f"| {row['name']} | {row['language']} | {row['pages']} | {_counts(row['concept_junk'])} "
              f"| {_counts(row['relations'])} | {_counts(row['forms'])} | {_counts(row['question_junk'])} "
              f"| {row['explained']}/{row['explanations']} | {p10} |")
    judged = [r for r in rows if r["top"]]
    print("\nTotals over", len(judged), "documents with a graph:")
    print("  top-20 concept junk:", _counts(checks.tally(judged, "concept_junk")))
    print("  relations by type:  ", _counts(checks.tally(judged, "relations")))
    print("  questions:", sum(r["questions"] for r in judged), "by form:", _counts(checks.tally(judged, "forms")))
    print("  question junk:      ", _counts(checks.tally(judged, "question_junk")))
    print(f"  explanations stating the link: {sum(r['explained'] for r in judged)}/"
          f"{sum(r['explanations'] for r in judged)}")
    scored = [r["p10"] for r in judged if r["p10"] is not None]
    if scored:
        print(f"  precision@10 against the gold lists: {sum(scored) / len(scored):.2f} over {len(scored)} documents")


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common()) or "0"


if __name__ == "__main__":
    main()
