"""manage.py concepts [--top K] [--provider P] [--model M] [--ocr] PATH...: a document's key concepts.

PATH is a .txt or .pdf file or a folder of them (searched recursively, in sorted order). One JSON
line per file: {"path": ..., "concepts": [names, best first]}; a file that cannot be read gives
{"path": ..., "error": ...} and the command goes on. A PATH that does not exist (or is not a .txt,
.pdf or folder) is a usage error: a message on stderr and exit status 2. When no file gave concepts
(every one failed, or there was none), the command ends with exit status 1 and the last reason.

This is how concept quality is measured (bench: Inspec). It needs no database and no Redis: the
provider is used directly, without the response cache. With the local provider, a text that fits
in one chunk is one `extract_concepts` call on its pages as they are, so the command's answer for
an abstract is exactly what a single-chunk call gives; a longer text is chunked, extracted per
chunk and merged as the graph builder does, and ranked by the merged importance.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from jobs.policies import policy_for
from studyapp.ai.errors import ProviderBadOutput
from studyapp.ai.providers.base import Provider
from studyapp.ai.schemas import ChunkInput, Segment
from studyapp.ai.text import estimate_tokens
from studyapp.core.errors import StudyappError
from studyapp.documents.regions import study_pages
from studyapp.graphs.chunking import MAX_TOKENS, make_chunks
from studyapp.graphs.merging import merge_chunks

SUFFIXES = (".txt", ".pdf")


class Command(BaseCommand):
    help = "Print the key concepts of .txt/.pdf files (one JSON line per file), best first."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="a .txt or .pdf file, or a folder of them")
        parser.add_argument("--top", type=int, default=10, help="how many concepts per file (default 10)")
        parser.add_argument("--provider", default="local", choices=("local", "openai"),
                            help="AI provider (default local)")
        parser.add_argument("--model", default=None, help="model name (default: the provider's)")
        parser.add_argument("--language", default=None, choices=("en", "de"), help="skip the language guess")
        parser.add_argument("--ocr", action="store_true", help="OCR PDF pages without a text layer (slow)")

    def handle(self, *args, **options):
        if options["top"] < 1:
            raise CommandError("--top must be at least 1", returncode=2)
        files = collect_files(options["paths"])
        provider = make_provider(options["provider"], options["model"])
        succeeded, last_error = 0, "no .txt or .pdf file found"
        for path in files:
            line = {"path": str(path)}
            try:
                pages = read_pages(path, ocr=options["ocr"])
                line["concepts"] = document_concepts(pages, provider, top=options["top"], language=options["language"])
                succeeded += 1
            except (StudyappError, ProviderBadOutput, OSError, UnicodeError) as exc:
                line["error"] = last_error = str(exc) or type(exc).__name__
            self.stdout.write(json.dumps(line, ensure_ascii=False))
            self.stdout.flush()
        if not succeeded:
            raise CommandError(f"no file gave concepts ({len(files)} tried): {last_error}", returncode=1)


def collect_files(paths: list[str]) -> list[Path]:
    """Every .txt/.pdf named or inside a named folder (recursive, sorted). Raises CommandError (2)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise CommandError(f"not a .txt or .pdf file: {path}", returncode=2)
            files.append(path)
        else:
            raise CommandError(f"no such file or folder: {path}", returncode=2)
    return files


def make_provider(name: str, model: str | None) -> Provider:
    """The provider itself, without the database-backed cache (the command needs no migrations)."""
    if name == "openai":
        from studyapp.ai.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(model=model or settings.OPENAI_MODEL,
                              max_output_tokens=policy_for("generate_graph").max_output_tokens)
    from studyapp.ai.providers.local import LocalProvider

    return LocalProvider(model=model or "local-1")


def read_pages(path: Path, *, ocr: bool = False) -> list[tuple[str, str]]:
    """(page label, text) pairs: a .txt file is page "1"; a PDF goes through the extraction service."""
    if path.suffix.lower() == ".txt":
        return [("1", path.read_text(encoding="utf-8", errors="replace"))]
    from studyapp.documents.extraction import ExtractionOptions, extract_pages

    pages = extract_pages(path.read_bytes(), options=ExtractionOptions(ocr=ocr))
    return [(page.label, page.text) for page in pages if page.text.strip()]


def document_concepts(pages: list[tuple[str, str]], provider: Provider, *, top: int = 10,
                      language: str | None = None) -> list[str]:
    """The document's `top` concept names, best first, from its body text (as the graph reads it).

    A text that fits in one chunk is one extract_concepts call with its pages as segments. A longer
    one is chunked like the graph builder does, each chunk asks for max(top, GRAPH_CONCEPTS_PER_CHUNK)
    concepts, and the answers are merged (aliases joined) and ranked by importance and spread.
    """
    pages = study_pages([(label, text) for label, text in pages if text.strip()])
    if not pages:
        return []
    if sum(estimate_tokens(text) for _, text in pages) <= MAX_TOKENS:
        chunk = ChunkInput(segments=[Segment(page=label, text=text) for label, text in pages],
                           max_concepts=top, language=language)
        return [c.name for c in provider.extract_concepts(chunk).output.concepts][:top]
    per_chunk = max(top, settings.GRAPH_CONCEPTS_PER_CHUNK)
    results = [provider.extract_concepts(ChunkInput(segments=c.segments, max_concepts=per_chunk,
                                                    language=language)).output
               for c in make_chunks(pages)]
    merged = merge_chunks(results, max_concepts=top, language=language or "en")
    return [concept.name for concept in merged.concepts.values()][:top]
