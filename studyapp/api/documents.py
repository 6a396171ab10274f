"""Documents: upload a PDF (its extraction and graph start at once), list, look at, delete; its pages."""

from datetime import datetime

from ninja import File, Form, Router, Schema, UploadedFile
from ninja.errors import ValidationError
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import Field

from jobs import pipelines
from jobs.selectors import pipeline_runs
from studyapp.api.errors import read_errors, write_errors
from studyapp.api.jobs import JobOut
from studyapp.api.pagination import Pages
from studyapp.api.schemas import ObjectId, choices
from studyapp.documents.models import Document, DocumentPage
from studyapp.documents.selectors import document_for_owner, document_pages_in_order
from studyapp.documents.services import documents_for_owner
from studyapp.graphs.services import current_graph

router = Router(tags=["documents"])


class DocumentOut(Schema):
    id: int
    title: str
    status: choices(Document.Status)
    page_count: int | None = Field(description="known once extraction has opened the file")
    size: int = Field(description="bytes")
    error: str = Field(description="why processing failed, in words for the student")
    created_at: datetime
    updated_at: datetime


class DocumentDetailOut(DocumentOut):
    graph_id: int | None = Field(description="the concept graph shown now (GET .../graph), once one is ready")
    jobs: list[JobOut] = Field(description="the latest job of each pipeline step, in order: extract_document, "
                                           "generate_graph, create_quiz (the quiz jobs of the document's quizzes)")

    @staticmethod
    def resolve_graph_id(document: Document) -> int | None:
        graph = current_graph(document)
        return graph.pk if graph else None

    @staticmethod
    def resolve_jobs(document: Document) -> list:
        return pipeline_runs(document)


class PageOut(Schema):
    index: int = Field(description="0-based position in the file")
    label: str = Field(description="the page number printed on the page (cite this)")
    text: str
    source: choices(DocumentPage.Source) = Field(description="text layer, OCR, or empty")
    note: str


# Said in the schema as well: nothing but these three parts (Django's multipart parser gives up on odd
# extra field names), and the file is a non-empty PDF, judged by its bytes (400 `not_a_pdf` otherwise).
_PDF_RULE = ("A PDF file. It is judged by its content, not its name or declared type: the first KiB must hold "
             "the `%PDF-` header, otherwise the answer is 400 with code `not_a_pdf`. Larger than the upload "
             "limit: 413.")
_UPLOAD_BODY = {
    "requestBody": {"content": {"multipart/form-data": {
        "schema": {"additionalProperties": False, "properties": {"file": {
            "minLength": 1, "contentMediaType": "application/pdf", "description": _PDF_RULE}}},
        "encoding": {"file": {"contentType": "application/pdf"}},
    }}},
    "responses": {400: {"description": "Bad request: e.g. `not_a_pdf` when the file is not a PDF"}},
}


@router.post("", response={201: DocumentDetailOut, **write_errors(413)}, summary="Upload a PDF",
             openapi_extra=_UPLOAD_BODY)
def document_upload(request, file: File[UploadedFile], title: Form[str] = "", password: Form[str] = ""):
    """Multipart upload. Extraction starts at once (then the concept graph, then a quiz); follow them through `jobs`. The same
    file uploaded again returns the same document. `password` opens a protected PDF and is forgotten after
    extraction; uploading a failed document again with a password queues it again."""
    _refuse_repeated_fields(request, "title", "password")
    document, _ = pipelines.document_upload(owner=request.auth, upload=file, filename=file.name or "document.pdf",
                                  title=title[:255], password=password)
    return Status(201, document)


def _refuse_repeated_fields(request, *names: str) -> None:
    """A text field sent twice is an error: Django would keep the last value silently, and the
    schema says each is one string."""
    repeated = [name for name in names if len(request.POST.getlist(name)) > 1]
    if repeated:
        raise ValidationError([{"loc": ("form", name), "msg": "sent more than once; send it once"}
                               for name in repeated])


@router.get("", response={200: list[DocumentOut], **read_errors()}, summary="My documents, newest first")
@paginate(Pages)
def document_list(request):
    return documents_for_owner(owner=request.auth).order_by("-created_at", "-pk")


@router.get("/{document_id}", response={200: DocumentDetailOut, **read_errors(404)}, summary="A document")
def document_get(request, document_id: ObjectId):
    return document_for_owner(owner=request.auth, document_id=document_id)


@router.delete("/{document_id}", response={204: None, **write_errors(404)}, summary="Delete a document")
def document_delete(request, document_id: ObjectId):
    """Deletes the document, its pages, graphs and explanations. Its unfinished jobs are cancelled first
    (a running one stops within moments); the jobs themselves stay in your job list."""
    pipelines.document_delete(document=document_for_owner(owner=request.auth, document_id=document_id))
    return Status(204, None)


@router.get("/{document_id}/pages", response={200: list[PageOut], **read_errors(404)}, summary="A document's pages")
@paginate(Pages)
def page_list(request, document_id: ObjectId):
    """The cleaned text page by page, with the printed page label of each, in file order."""
    return document_pages_in_order(document=document_for_owner(owner=request.auth, document_id=document_id))
