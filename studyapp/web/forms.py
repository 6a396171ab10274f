"""Forms of the web UI: sign-up, upload, unlocking a protected PDF, explaining a connection."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from studyapp.documents.extraction import is_pdf_bytes
from studyapp.graphs.models import Concept, ConceptGraph
from studyapp.webhooks.services import MAX_WEBHOOKS


def size_text(size: int) -> str:
    """4 KB, 12.5 MB: a size as people read it."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)


# --- settings: API keys and webhooks (issues 5 and 6) --------------------------------------------
# What a name or URL may be is the services' business (studyapp.apikeys, studyapp.webhooks): the
# views show their refusals on these fields.


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=100,
        help_text="What the key is for, e.g. “laptop script”, so you can tell your keys apart.",
        error_messages={"required": "Give the key a name, so you can tell it apart later."},
    )


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL", max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/studyapp", "autocomplete": "url"}),
        error_messages={"required": "Enter the URL to send events to."},
    )

    def __init__(self, *args, public_only: bool, **kwargs):
        super().__init__(*args, **kwargs)
        where = (" on the public internet: addresses in private or local networks (localhost, 10.x.x.x, "
                 "192.168.x.x...) are refused") if public_only else ""
        self.fields["url"].help_text = f"An http:// or https:// URL{where}. Up to {MAX_WEBHOOKS} webhooks."


class UploadForm(forms.Form):
    file = forms.FileField(
        label="PDF file",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        error_messages={"required": "Choose a PDF to upload.", "empty": "This file is empty."},
    )
    title = forms.CharField(label="Title", required=False, max_length=255,
                            help_text="Leave empty to use the file name.")
    password = forms.CharField(
        label="PDF password", required=False, max_length=255,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Only for password-protected PDFs. It is kept until the text is read, then erased.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"This file is {size_text(upload.size)}; the limit is {size_text(settings.UPLOAD_MAX_BYTES)}."
            )
        head = upload.read(1024)
        upload.seek(0)
        if not is_pdf_bytes(head):
            raise forms.ValidationError("This file is not a PDF. Upload a .pdf file.")
        return upload


class UnlockForm(forms.Form):
    password = forms.CharField(
        label="PDF password", max_length=255,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        error_messages={"required": "Enter the PDF's password."},
    )


class ExplainForm(forms.Form):
    """Two different concepts of one graph."""

    source = forms.ModelChoiceField(queryset=Concept.objects.none(), label="First concept",
                                    error_messages={"required": "Pick the first concept."})
    target = forms.ModelChoiceField(queryset=Concept.objects.none(), label="Second concept",
                                    error_messages={"required": "Pick the second concept."})

    def __init__(self, *args, graph: ConceptGraph, **kwargs):
        super().__init__(*args, **kwargs)
        concepts = graph.concepts.order_by("name")
        self.fields["source"].queryset = concepts
        self.fields["target"].queryset = concepts

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") and cleaned.get("source") == cleaned.get("target"):
            raise forms.ValidationError("Pick two different concepts.")
        return cleaned
