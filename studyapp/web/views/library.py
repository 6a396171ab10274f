"""The library: the student's documents with their live pipelines, and uploading new ones."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from jobs.models import JobRun
from jobs.pipelines import document_upload
from studyapp.core.errors import PermanentError
from studyapp.documents.errors import PasswordRequired, WrongPassword
from studyapp.documents.models import Document
from studyapp.documents.services import documents_for_owner
from studyapp.web.forms import UnlockForm, UploadForm
from studyapp.web.runs import pipeline
from studyapp.web.views.common import own_document, safe_next, student_required

DOCUMENTS_PER_SCREEN = 20
PASSWORD_ERRORS = {PasswordRequired().message, WrongPassword().message}
# A pipeline kind whose run newly finished -> the event that tells the page's other parts to redraw.
FINISHED_EVENTS = {"extract_document": "pages-changed", "generate_graph": "graph-changed"}


@sensitive_post_parameters("password")
@student_required
def library(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        if _upload(request, form):
            return redirect("web:library")
    paginator = Paginator(documents_for_owner(owner=request.user).order_by("-created_at"), DOCUMENTS_PER_SCREEN)
    screen = paginator.get_page(request.GET.get("page"))
    cards = [document_state(document) for document in screen.object_list]
    return render(request, "web/library.html", {"form": form, "screen": screen, "cards": cards, "nav": "library",
                                                "max_upload": settings.UPLOAD_MAX_BYTES})


def _upload(request: HttpRequest, form: UploadForm) -> bool:
    upload = form.cleaned_data["file"]
    try:
        document, run = document_upload(
            owner=request.user, upload=upload, filename=upload.name, title=form.cleaned_data["title"],
            password=form.cleaned_data["password"],
        )
    except PermanentError as exc:  # not a PDF, too large: the domain's own words
        form.add_error("file", exc.message)
        return False
    if run is not None and run.status in JobRun.UNFINISHED:
        messages.success(request, f"“{document.title}” was uploaded; its text is being read.")
    else:
        messages.info(request, f"“{document.title}” is already in your library.")
    return True


def document_state(document: Document, *, finished_before: set[str] | None = None) -> dict:
    """What a document card (library) or header (document page) shows live."""
    runs = pipeline(document)
    finished = {run.kind for run in runs if run.finished}
    return {
        "document": document,
        "runs": runs,
        "live": any(not run.finished for run in runs),
        "finished_kinds": ",".join(sorted(finished)),
        "newly_finished": finished - finished_before if finished_before is not None else set(),
        "needs_password": document.status == Document.Status.FAILED and document.error in PASSWORD_ERRORS,
        "unlock_form": UnlockForm(),
    }


@require_GET
@student_required
def document_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The small partial a page polls while a document's pipeline runs; it stops polling itself
    (no hx-trigger in the answer) once every run has finished."""
    document = own_document(request, pk)
    before = {kind for kind in request.GET.get("finished", "").split(",") if kind}
    return live_response(request, document_state(document, finished_before=before))


def live_response(request: HttpRequest, state: dict) -> HttpResponse:
    response = render(request, "web/partials/document_live.html", state)
    for kind in sorted(state["newly_finished"]):
        if kind in FINISHED_EVENTS:
            trigger_client_event(response, FINISHED_EVENTS[kind])
    return response


@sensitive_post_parameters("password")
@require_POST
@student_required
def document_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    """Try a protected PDF again with its password (the stored file, no second upload)."""
    document = own_document(request, pk)
    form = UnlockForm(request.POST)
    if form.is_valid():
        with document.file.open("rb") as stored:
            document, _run = document_upload(owner=request.user, upload=stored, filename=document.file.name,
                                             title=document.title, password=form.cleaned_data["password"])
        document.refresh_from_db()
    if request.htmx:
        state = document_state(document)
        if not form.is_valid():
            state["unlock_form"] = form
        return live_response(request, state)
    if not form.is_valid():
        messages.error(request, "Enter the PDF's password.")
    return redirect(safe_next(request, document_url(document)))


def document_url(document: Document) -> str:
    from django.urls import reverse

    return reverse("web:document", args=[document.pk])
