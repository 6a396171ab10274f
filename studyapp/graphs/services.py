"""Building a concept graph from a document's pages, and explaining how two concepts connect.

No imports of jobs/ or rq: the job layer passes a provider (with its cache and rate limiter) and a
progress callback. Per-chunk answers are stored as they arrive (GraphChunk), so a retried or
recovered build skips the chunks it already has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from studyapp.ai.errors import ProviderBadOutput
from studyapp.ai.language import check_language
from studyapp.ai.providers.base import Provider
from studyapp.ai.schemas import ChunkConcepts, ChunkInput, ConceptInput, Usage
from studyapp.core.errors import PermanentError
from studyapp.core.progress import ProgressCallback, no_progress
from studyapp.documents.models import Document
from studyapp.documents.regions import cited_people, study_pages
from studyapp.documents.services import document_language
from studyapp.graphs.chunking import Chunk, make_chunks
from studyapp.graphs.evidence import PageIndex
from studyapp.graphs.merging import MergedGraph, concept_key, merge_chunks
from studyapp.graphs.models import Concept, ConceptGraph, GraphChunk, Relation

log = logging.getLogger(__name__)


def graph_get_or_create(*, document: Document, provider: str, model: str) -> ConceptGraph:
    graph, _ = ConceptGraph.objects.get_or_create(
        document=document, provider=provider, model=model, content_sha256=document.sha256
    )
    return graph


def current_graph(document: Document) -> ConceptGraph | None:
    """The newest ready graph: a rebuild replaces it only once it succeeds."""
    return document.graphs.filter(status=ConceptGraph.Status.READY).order_by("-finished_at").first()


def graph_build(*, graph: ConceptGraph, provider: Provider, progress: ProgressCallback = no_progress,
                concurrency: int | None = None) -> dict:
    """Build (or resume building) `graph`. Returns its stats, including token usage."""
    language = document_language(graph.document)
    check_language(provider.languages, language, "Concept graphs are built from documents")
    pages = document_pages(graph.document)
    progress("chunking")
    chunks = make_chunks(pages)
    if not chunks:
        raise PermanentError("This document has no text to build a concept graph from.")
    concurrency = concurrency or settings.AI_CONCURRENCY
    _extract_all(graph, chunks, provider, progress, concurrency, language)
    _require_an_answer(graph)
    progress("merging", done=0, total=1)
    people = frozenset(cited_people(list(graph.document.pages.order_by("index").values_list("text", flat=True))))
    merged = merge_chunks(_chunk_results(graph), max_concepts=settings.GRAPH_MAX_CONCEPTS, language=language,
                          people=people)
    index = PageIndex(pages)
    _describe(merged, index, provider, progress, concurrency, language)
    progress("validating")
    dropped = _validate(merged, index)
    progress("saving")
    return _save(graph, merged, len(chunks), dropped)


def document_pages(document: Document) -> list[tuple[str, str]]:
    """The (label, text) of the pages study material comes from: body text only (no running heads,
    front matter, contents, references, index, captions or tables), verbatim otherwise."""
    return study_pages(list(document.pages.order_by("index").values_list("label", "text")))


def _extract_all(graph: ConceptGraph, chunks: list[Chunk], provider: Provider, progress: ProgressCallback,
                 concurrency: int, language: str) -> None:
    stored = {c.index: c.content_hash for c in graph.chunks.filter(status=GraphChunk.Status.DONE)}
    todo = [c for c in chunks if stored.get(c.index) != c.content_hash]
    done, total = len(chunks) - len(todo), len(chunks)
    progress(f"extracting concepts {done}/{total}", done=done, total=total)

    def report(finished: int) -> None:
        progress(f"extracting concepts {done + finished}/{total}", done=done + finished, total=total)

    run_concurrently([lambda c=c: _extract_chunk(graph.pk, c, provider, language) for c in todo], concurrency, report)


def run_concurrently(calls: list[Callable[[], None]], concurrency: int, report: Callable[[int], None]) -> None:
    """Run independent provider calls on a bounded pool; progress is reported from this thread as
    each call finishes (so a bar moves with every chunk, and its ETA follows).

    The first error (a rate limit, an outage, a rejected key) cancels what has not started and is
    raised; calls already finished have stored their results.
    """
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="provider") as pool:
        pending = {pool.submit(_with_own_connection, call) for call in calls}
        finished = 0
        while pending:
            completed, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in completed:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()
                finished += 1
                report(finished)


def _with_own_connection(call: Callable[[], None]) -> None:
    try:
        call()
    finally:
        connections.close_all()  # this thread's own database connections


def _extract_chunk(graph_id: int, chunk: Chunk, provider: Provider, language: str) -> None:
    """Runs in a pool thread: ask the provider, store the checkpoint. Errors other than unusable
    output propagate and stop the build (rate limits, outages, a rejected key)."""
    request = ChunkInput(segments=chunk.segments, max_concepts=settings.GRAPH_CONCEPTS_PER_CHUNK,
                         language=language)
    try:
        call = provider.extract_concepts(request)
    except ProviderBadOutput as exc:
        _checkpoint(graph_id, chunk, GraphChunk.Status.FAILED, {}, Usage(), str(exc))
        return
    _checkpoint(graph_id, chunk, GraphChunk.Status.DONE, call.output.model_dump(mode="json"), call.usage, "")


def _require_an_answer(graph: ConceptGraph) -> None:
    """A graph none of whose chunks got a usable answer is a failure, not an empty graph."""
    if graph.chunks.filter(status=GraphChunk.Status.DONE).exists():
        return
    reason = graph.chunks.filter(status=GraphChunk.Status.FAILED).values_list("error", flat=True).first()
    raise ProviderBadOutput(f"no part of the document got a usable answer from the AI provider ({reason})")


def _checkpoint(graph_id: int, chunk: Chunk, status: str, result: dict, usage: Usage, error: str) -> None:
    GraphChunk.objects.update_or_create(
        graph_id=graph_id, index=chunk.index,
        defaults={"content_hash": chunk.content_hash, "pages": chunk.pages[:64], "status": status, "result": result,
                  "error": error[:500], "prompt_tokens": usage.prompt_tokens,
                  "completion_tokens": usage.completion_tokens},
    )


def _chunk_results(graph: ConceptGraph) -> list[ChunkConcepts]:
    rows = graph.chunks.filter(status=GraphChunk.Status.DONE).order_by("index")
    return [ChunkConcepts.model_validate(row.result) for row in rows]


def _describe(merged: MergedGraph, index: PageIndex, provider: Provider, progress: ProgressCallback,
              concurrency: int, language: str) -> None:
    """Concepts that came without a description get one from the passages that mention them."""
    missing = [c for c in merged.concepts.values() if not c.description.strip()]

    def describe(concept) -> None:
        evidence = index.mentions(concept.names(), limit=3)
        request = ConceptInput(name=concept.name, aliases=sorted(concept.aliases), evidence=evidence,
                               language=language)
        try:
            concept.description = provider.describe_concept(request).output.description
        except ProviderBadOutput:
            concept.description = evidence[0].quote if evidence else ""

    run_concurrently([lambda c=c: describe(c) for c in missing], concurrency,
                     lambda finished: progress("merging", done=finished, total=len(missing)))


def _validate(merged: MergedGraph, index: PageIndex) -> int:
    """Pages come from the text; relations keep only quotes found on their page. Returns drops."""
    for concept in list(merged.concepts.values()):
        pages = index.pages_mentioning(concept.names()) or [p for p in concept.pages if p in index.labels]
        if not pages:
            del merged.concepts[concept.key]  # not in the document at all: an invention
            continue
        concept.pages = set(pages)
    kept = []
    for relation in merged.relations:
        if relation.source not in merged.concepts or relation.target not in merged.concepts:
            continue
        if not index.quote_on_page(relation.quote, relation.page):
            page = index.page_of_quote(relation.quote)
            if page is None:
                continue
            relation.page = page
        kept.append(relation)
    dropped = len(merged.relations) - len(kept)
    merged.relations = kept
    return dropped


def _save(graph: ConceptGraph, merged: MergedGraph, chunk_count: int, dropped: int) -> dict:
    usage = _usage(graph)
    failed = graph.chunks.filter(status=GraphChunk.Status.FAILED).count()
    stats = {"chunks": chunk_count, "failed_chunks": failed, "concepts": len(merged.concepts),
             "relations": len(merged.relations), "dropped_relations": dropped,
             "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
    with transaction.atomic():
        graph.relations.all().delete()
        graph.concepts.all().delete()
        concepts = Concept.objects.bulk_create([_concept_row(graph, c) for c in merged.concepts.values()])
        by_key = {c.key: c for c in concepts}
        Relation.objects.bulk_create([
            Relation(graph=graph, source=by_key[r.source], target=by_key[r.target], type=r.type.value,
                     description=r.description[:1000], weight=r.weight, page=r.page[:32], quote=r.quote)
            for r in merged.relations
        ])
        ConceptGraph.objects.filter(pk=graph.pk).update(
            status=ConceptGraph.Status.READY, stats=stats, error="", finished_at=timezone.now())
    return stats


def _concept_row(graph: ConceptGraph, concept) -> Concept:
    pages = sorted(concept.pages, key=_page_order(graph))
    return Concept(graph=graph, name=concept.name[:120], key=concept.key[:120], aliases=sorted(concept.aliases),
                   description=concept.description, importance=round(concept.importance, 4), pages=pages)


def _page_order(graph: ConceptGraph):
    order = {label: i for i, label in enumerate(graph.document.pages.order_by("index").values_list("label", flat=True))}
    return lambda label: order.get(label, len(order))


def _usage(graph: ConceptGraph) -> Usage:
    total = Usage()
    for prompt, completion in graph.chunks.values_list("prompt_tokens", "completion_tokens"):
        total = total + Usage(prompt_tokens=prompt, completion_tokens=completion)
    return total


def graph_mark_failed(*, graph_id: int, error: str) -> None:
    ConceptGraph.objects.filter(pk=graph_id).exclude(status=ConceptGraph.Status.READY).update(
        status=ConceptGraph.Status.FAILED, error=error)


__all__ = ["graph_build", "graph_get_or_create", "current_graph", "graph_mark_failed", "concept_key"]
