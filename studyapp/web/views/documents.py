"""A document's page: its live pipeline, its concept graph, its quizzes, its pages of text, explanations."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.db.models.functions import Length
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from jobs.control import retry_run
from jobs.models import JobRun
from jobs.pipelines import explanation_request
from studyapp.documents.models import Document
from studyapp.graphs.explanations import explanation_find
from studyapp.graphs.models import Concept, ConceptGraph, Explanation
from studyapp.graphs.services import current_graph
from studyapp.web.forms import ExplainForm
from studyapp.web.graph_picture import graph_picture
from studyapp.web.runs import run_view
from studyapp.web.views.common import own_document, own_run, student_required
from studyapp.web.views.library import document_state
from studyapp.web.views.quizzes import quiz_section_context

PAGES_PER_SCREEN = 10


@require_GET
@student_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_document(request, own_document(request, pk))


def render_document(request: HttpRequest, document: Document, *, quiz_context: dict | None = None) -> HttpResponse:
    """The whole document page (also the quiz form's answer without JavaScript, with its errors)."""
    graph = current_graph(document)
    concept = _concept_from_query(request, graph)
    context = {
        "document": document,
        "state": document_state(document),
        **_pages_context(request, document),
        **_graph_context(document, graph),
        **(quiz_context or quiz_section_context(request, document)),
        "concept_panel": _concept_context(document, graph, concept) if concept else None,
        "shown_explanation": _explanation_from_query(request, graph),
        "nav": "library",
    }
    return render(request, "web/document.html", context)


def _concept_from_query(request: HttpRequest, graph: ConceptGraph | None) -> Concept | None:
    """`?concept=ID` opens a concept's panel without JavaScript (the graph's list links use it)."""
    concept_id = request.GET.get("concept", "")
    if graph is None or not concept_id.isdigit():
        return None
    return graph.concepts.filter(pk=int(concept_id)).first()


def _explanation_from_query(request: HttpRequest, graph: ConceptGraph | None) -> Explanation | None:
    explanation_id = request.GET.get("explanation", "")
    if graph is None or not explanation_id.isdigit():
        return None
    return graph.explanations.select_related("source", "target").filter(pk=int(explanation_id)).first()


# --- pages --------------------------------------------------------------------------------------


def _pages_context(request: HttpRequest, document: Document) -> dict:
    paginator = Paginator(document.pages.order_by("index"), PAGES_PER_SCREEN)
    screen = paginator.get_page(request.GET.get("p"))
    return {"pages_screen": screen, "page_count": paginator.count,
            "pages_url": reverse("web:document_pages", args=[document.pk])}


@require_GET
@student_required
def document_pages(request: HttpRequest, pk: int) -> HttpResponse:
    """The pages section alone: HTMX pagination, and a redraw when extraction finishes."""
    document = own_document(request, pk)
    return render(request, "web/partials/pages.html", {"document": document, **_pages_context(request, document)})


@require_GET
@student_required
def page_by_label(request: HttpRequest, pk: int) -> HttpResponse:
    """A citation's page ("p. 12") -> the screen of pages that holds it, scrolled to it."""
    document = own_document(request, pk)
    page = document.pages.filter(label=request.GET.get("label", "")).order_by("index").first()
    if page is None:
        raise Http404("no page with that label")
    screen = page.index // PAGES_PER_SCREEN + 1
    return redirect(f"{reverse('web:document', args=[document.pk])}?{urlencode({'p': screen})}#page-{page.index}")


# --- the concept graph ---------------------------------------------------------------------------


def _graph_context(document: Document, graph: ConceptGraph | None) -> dict:
    if graph is None:
        return {"graph": None, "picture": None, "graph_run": _graph_run(document)}
    if not graph.concepts.exists():
        return {"graph": graph, "picture": None, "graph_run": None, "no_concepts": _why_no_concepts(document)}
    return {
        "graph": graph,
        "picture": graph_picture(graph),
        "concepts": list(graph.concepts.order_by("name")),
        "explain_form": ExplainForm(graph=graph),
        "explanations": _explanations(graph),
        "graph_run": None,
    }


def _why_no_concepts(document: Document) -> str:
    counts = document.pages.aggregate(pages=Count("pk"), with_text=Count("pk", filter=~Q(text="")),
                                      chars=Sum(Length("text")))
    pages, with_text, chars = counts["pages"], counts["with_text"], counts["chars"] or 0
    return (f"No concepts were found in this document: it has {chars:,} characters of text on {with_text} of its "
            f"{pages} page{'s' if pages != 1 else ''}, too little for key ideas to stand out (a document of "
            f"mostly images or scans without readable text gives none).")


def _graph_run(document: Document):
    from studyapp.web.runs import pipeline

    return next((run for run in pipeline(document) if run.kind == "generate_graph"), None)


def _explanations(graph: ConceptGraph) -> list[Explanation]:
    return list(graph.explanations.select_related("source", "target").order_by("-created_at")[:20])


@require_GET
@student_required
def graph_section(request: HttpRequest, pk: int) -> HttpResponse:
    document = own_document(request, pk)
    return render(request, "web/partials/graph.html",
                  {"document": document, **_graph_context(document, current_graph(document))})


def _own_graph(document: Document) -> ConceptGraph:
    graph = current_graph(document)
    if graph is None:
        raise Http404("this document has no concept graph yet")
    return graph


@require_GET
@student_required
def concept_detail(request: HttpRequest, pk: int, concept_id: int) -> HttpResponse:
    document = own_document(request, pk)
    graph = _own_graph(document)
    concept = get_object_or_404(Concept, pk=concept_id, graph=graph)
    return render(request, "web/partials/concept.html", _concept_context(document, graph, concept))


def _concept_context(document: Document, graph: ConceptGraph, concept: Concept) -> dict:
    outgoing = list(concept.outgoing.select_related("target").order_by("-weight"))
    incoming = list(concept.incoming.select_related("source").order_by("-weight"))
    related_ids = [r.target_id for r in outgoing] + [r.source_id for r in incoming]
    others = [c for c in graph.concepts.order_by("name") if c.pk != concept.pk]
    # The explain form suggests the concepts this one is related to first.
    others.sort(key=lambda c: (c.pk not in related_ids, c.name.lower()))
    return {"document": document, "concept": concept, "outgoing": outgoing, "incoming": incoming,
            "others": others}


# --- explanations --------------------------------------------------------------------------------


@require_POST
@student_required
def explain(request: HttpRequest, pk: int) -> HttpResponse:
    """Explain how two concepts connect: the stored explanation at once, or start its run."""
    document = own_document(request, pk)
    graph = _own_graph(document)
    form = ExplainForm(request.POST, graph=graph)
    if not form.is_valid():
        return render(request, "web/partials/explanation.html", {"document": document, "errors": form.errors})
    source, target = form.cleaned_data["source"], form.cleaned_data["target"]
    outcome = explanation_request(graph=graph, source=source, target=target, owner=request.user)
    if not request.htmx:
        return redirect(f"{reverse('web:document', args=[document.pk])}#explanation")
    return _explanation_response(request, document, graph, source, target, outcome)


def _explanation_response(request, document: Document, graph: ConceptGraph, source: Concept, target: Concept,
                          outcome: Explanation | JobRun) -> HttpResponse:
    context = {"document": document, "source": source, "target": target}
    if isinstance(outcome, Explanation):
        context["explanation"] = outcome
    else:
        context["run"] = run_view(outcome)
    return render(request, "web/partials/explanation.html", context)


@require_GET
@student_required
def explanation_progress(request: HttpRequest, pk: int, run_id: str) -> HttpResponse:
    """Polled while an explanation is being written; answers with the explanation once it is."""
    document = own_document(request, pk)
    return _explanation_state(request, document, _explanation_run(request, document, run_id))


def _explanation_run(request: HttpRequest, document: Document, run_id: str) -> JobRun:
    run = own_run(request, run_id)
    if run.kind != "explain_connection" or not document.graphs.filter(pk=run.subject_id).exists():
        raise Http404("no such explanation job for this document")
    return run


def _explanation_state(request: HttpRequest, document: Document, run: JobRun) -> HttpResponse:
    graph = document.graphs.get(pk=run.subject_id)
    source = get_object_or_404(Concept, pk=run.payload.get("source_id"), graph=graph)
    target = get_object_or_404(Concept, pk=run.payload.get("target_id"), graph=graph)
    stored = explanation_find(graph=graph, source=source, target=target) if run.status == JobRun.Status.SUCCEEDED else None
    return _explanation_response(request, document, graph, source, target, stored or run)


@require_GET
@student_required
def explanation_detail(request: HttpRequest, pk: int, explanation_id: int) -> HttpResponse:
    document = own_document(request, pk)
    explanation = get_object_or_404(Explanation.objects.select_related("source", "target"), pk=explanation_id,
                                    graph__document=document)
    if not request.htmx:
        return redirect(f"{reverse('web:document', args=[document.pk])}?explanation={explanation.pk}#explanation")
    return render(request, "web/partials/explanation.html",
                  {"document": document, "explanation": explanation, "source": explanation.source,
                   "target": explanation.target})


@require_POST
@student_required
def explanation_retry(request: HttpRequest, pk: int, run_id: str) -> HttpResponse:
    """Try a failed explanation again: the same run, a fresh attempt budget."""
    document = own_document(request, pk)
    run = _explanation_run(request, document, run_id)
    retry_run(run)
    run.refresh_from_db()
    if not request.htmx:
        return redirect(f"{reverse('web:document', args=[document.pk])}#explanation")
    return _explanation_state(request, document, run)
