"""Documents in the admin: status, pages, the live progress of the current run, and uploads.

Uploading here goes through jobs.pipelines.document_upload, exactly like the web UI and the API,
so it starts extraction.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.html import format_html

from jobs.live import progress_bar
from jobs.pipelines import document_upload
from jobs.selectors import current_run, runs_for_subject, usage_for_document
from studyapp.documents.extraction import is_pdf_bytes
from studyapp.documents.models import Document, DocumentPage
from studyapp.graphs.services import current_graph


class DocumentUploadForm(forms.ModelForm):
    upload = forms.FileField(label="PDF file", help_text="Checked by its bytes, not its name.")
    password = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Only for password-protected PDFs. Kept until extraction."
    )

    class Meta:
        model = Document
        fields = ("owner", "title")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["title"].help_text = "Leave empty to use the file name."

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"This file is {upload.size / 2**20:.1f} MB; the limit is {settings.UPLOAD_MAX_BYTES / 2**20:.1f} MB."
            )
        head = upload.read(1024)
        upload.seek(0)
        if not is_pdf_bytes(head):
            raise forms.ValidationError("This file is not a PDF.")
        return upload


# The document page shows only its first pages inline: a 352-page book rendered inline made the page
# 588 KB of HTML and took 30 s. The rest are in the paginated page list (DocumentPageAdmin).
INLINE_PAGES = 20


def text_preview(page: DocumentPage) -> str:
    return (page.text[:300] + "…") if len(page.text) > 300 else page.text


class FirstPagesFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset().order_by("index")[:INLINE_PAGES]


class DocumentPageInline(admin.TabularInline):
    model = DocumentPage
    formset = FirstPagesFormSet
    fields = ("index", "label", "source", "note", "text_preview")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = f"pages (the first {INLINE_PAGES}; all of them under \"all pages\" above)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="text")
    def text_preview(self, page: DocumentPage) -> str:
        return text_preview(page)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "status", "page_count", "current_job", "error_short", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "owner__username", "sha256")
    list_select_related = ("owner",)
    readonly_fields = ("owner", "file", "sha256", "size", "page_count", "all_pages", "status", "error", "current_job",
                       "jobs_link", "graph_link", "tokens", "created_at", "updated_at")
    inlines = [DocumentPageInline]

    class Media:
        js = ("jobs/live_progress.js",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = DocumentUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("owner", "title", "upload", "password")
        return ("title", *self.readonly_fields)

    def get_inlines(self, request, obj):
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        upload = form.cleaned_data["upload"]
        document, _run = document_upload(
            owner=form.cleaned_data["owner"], upload=upload, filename=upload.name,
            title=form.cleaned_data.get("title") or "", password=form.cleaned_data.get("password") or "",
        )
        # The admin continues with `obj` (messages, redirect): make it the stored document.
        obj.pk = document.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.display(description="current job")
    def current_job(self, document: Document) -> str:
        return progress_bar(current_run(document))

    @admin.display(description="all pages")
    def all_pages(self, document: Document) -> str:
        count = document.pages.count()
        url = f"{reverse('admin:documents_documentpage_changelist')}?{urlencode({'document__id__exact': document.pk})}"
        return format_html('<a href="{}">{} page(s), {} a screen</a>', url, count, DocumentPageAdmin.list_per_page)

    @admin.display(description="jobs")
    def jobs_link(self, document: Document) -> str:
        count = runs_for_subject(document).count()
        # Both halves of the generic key: a run on another model with the same id is not this document's.
        query = urlencode({"subject_type__id__exact": ContentType.objects.get_for_model(document).pk,
                           "subject_id__exact": document.pk})
        url = f"{reverse('admin:jobs_jobrun_changelist')}?{query}"
        return format_html('<a href="{}">{} run(s)</a>', url, count)

    @admin.display(description="concept graph")
    def graph_link(self, document: Document) -> str:
        graph = current_graph(document) or document.graphs.first()
        if graph is None:
            return "-"
        url = reverse("admin:graphs_conceptgraph_change", args=[graph.pk])
        return format_html('<a href="{}">{} ({}, {} concepts)</a>', url, graph.status, graph.model,
                           graph.stats.get("concepts", 0))

    @admin.display(description="provider tokens")
    def tokens(self, document: Document) -> str:
        usage = usage_for_document(document)
        return f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion"

    @admin.display(description="error")
    def error_short(self, document: Document) -> str:
        return (document.error[:80] + "…") if len(document.error) > 80 else document.error


@admin.register(DocumentPage)
class DocumentPageAdmin(admin.ModelAdmin):
    """Every page of a document, a screen at a time, read-only (the document page links here)."""

    list_display = ("index", "label", "source", "note", "text_preview")
    list_filter = ("source",)
    list_per_page = 50
    list_select_related = ("document",)
    ordering = ("document", "index")
    search_fields = ("text",)

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        # The document page links here with ?document__id__exact=N (no filter sidebar of every document).
        return lookup == "document__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="text")
    def text_preview(self, page: DocumentPage) -> str:
        return text_preview(page)
