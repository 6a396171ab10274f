"""Graph generation benchmarks, each a ratio against a baseline measured in the same run.

(a) `local` provider on a long PDF: graph build time vs the extraction time of the same PDF
    (both from the same stored pages; the response cache is emptied before every build).
(b) `openai` provider (real SDK) against the fake OpenAI-compatible server answering every
    request after --delay seconds: wall time of the chunk-extraction phase for N chunks vs the
    ideal N / concurrency x delay. Target <= 1.3x.

    .venv/bin/python bench/graph.py [PDF] [--chunks 24] [--concurrency 4] [--delay 1.0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, bench_environment, machine_lines, median  # noqa: E402

DEFAULT_PDF = REPO / "tests" / "fixtures" / "pdfs" / "GeoTopo-komprimiert.pdf"


def main() -> None:
    args = parse_args()
    print("$", shlex.join(["bench/graph.py", *sys.argv[1:]]))
    with bench_environment("graph") as env:
        for line in machine_lines(env):
            print(line)
        document = stored_document(Path(args.pdf))
        local_vs_extraction(document, args.repeat)
        openai_vs_ideal(document, args.chunks, args.concurrency, args.delay, args.repeat)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pdf", nargs="?", default=str(DEFAULT_PDF))
    parser.add_argument("--chunks", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


def stored_document(pdf: Path):
    from django.contrib.auth import get_user_model

    from studyapp.documents.models import Document
    from studyapp.documents.services import document_create

    owner = get_user_model().objects.create(username="bench")
    with pdf.open("rb") as fh:
        document, _ = document_create(owner=owner, upload=fh, filename=pdf.name)
    return Document.objects.get(pk=document.pk)


def timed_extraction(document) -> float:
    from studyapp.documents.extraction import ExtractionOptions
    from studyapp.documents.services import document_extract

    document.pages.all().delete()
    started = time.perf_counter()
    document_extract(document=document, options=ExtractionOptions(ocr=False))
    return time.perf_counter() - started


def timed_graph(document, provider, model: str) -> tuple[float, dict]:
    from studyapp.ai.models import ProviderResponse
    from studyapp.graphs.models import ConceptGraph
    from studyapp.graphs.services import graph_build, graph_get_or_create

    ProviderResponse.objects.all().delete()
    ConceptGraph.objects.all().delete()
    graph = graph_get_or_create(document=document, provider=provider.name, model=model)
    started = time.perf_counter()
    stats = graph_build(graph=graph, provider=provider)
    return time.perf_counter() - started, stats


def local_vs_extraction(document, repeat: int) -> None:
    from studyapp.ai.providers import get_provider

    extraction, graph, stats = [], [], {}
    for _ in range(repeat):  # alternate the two sides
        extraction.append(timed_extraction(document))
        seconds, stats = timed_graph(document, get_provider("local", "local-1"), "local-1")
        graph.append(seconds)
    pages = document.pages.count()
    print(f"\n(a) local provider on {document.title} ({pages} pages, {stats['chunks']} chunks, "
          f"{stats['concepts']} concepts, {stats['relations']} relations), median of {repeat}")
    print(f"    extraction {median(extraction):.2f} s   graph {median(graph):.2f} s   "
          f"graph/extraction = {median(graph) / median(extraction):.2f}x")


def openai_vs_ideal(document, chunks: int, concurrency: int, delay: float, repeat: int) -> None:
    from django.conf import settings

    from studyapp.ai.providers.openai_provider import OpenAIProvider
    from studyapp.ai.cache import CachedProvider
    from studyapp.graphs.chunking import make_chunks
    from studyapp.graphs.models import ConceptGraph
    from studyapp.graphs.services import _extract_all, document_pages, graph_get_or_create
    from studyapp.ai.models import ProviderResponse
    from tests.ai.fake_openai import FakeOpenAI

    selected = make_chunks(document_pages(document))[:chunks]
    ideal = math.ceil(len(selected) / concurrency) * delay
    walls = []
    with FakeOpenAI(delay=delay) as server:
        settings.AI_CONCURRENCY = concurrency
        provider = CachedProvider(OpenAIProvider(model="bench-model", base_url=server.base_url, api_key="sk-bench"))
        for _ in range(repeat):
            ProviderResponse.objects.all().delete()
            ConceptGraph.objects.all().delete()
            graph = graph_get_or_create(document=document, provider="openai", model="bench-model")
            started = time.perf_counter()
            _extract_all(graph, selected, provider, lambda *a, **k: None, concurrency)
            walls.append(time.perf_counter() - started)
        most_at_once = server.max_in_flight
    wall = median(walls)
    print(f"\n(b) openai provider (SDK) vs fake server answering in {delay:.1f} s: {len(selected)} chunks, "
          f"concurrency {concurrency}, median of {repeat}")
    print(f"    wall {wall:.2f} s   ideal {ideal:.2f} s   wall/ideal = {wall / ideal:.2f}x (target <= 1.3x)   "
          f"most requests in flight at once: {most_at_once}")


if __name__ == "__main__":
    main()
