"""Forms of the web UI: sign-up, upload, unlocking a protected PDF, explaining a connection, asking
for a quiz."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from studyapp.documents.extraction import is_pdf_bytes
from studyapp.graphs.models import Concept, ConceptGraph
from studyapp.quizzes.models import Question, Quiz
from studyapp.quizzes.services import MAX_QUESTIONS
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


class QuizRequestForm(forms.Form):
    """A quiz on demand: how many questions, how hard, which types (the domain checks them again)."""

    count = forms.IntegerField(
        label="Questions", min_value=1, max_value=MAX_QUESTIONS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": "Say how many questions you want.",
                        "invalid": "Enter a whole number of questions.",
                        "min_value": "Ask for at least 1 question.",
                        "max_value": f"A quiz has at most {MAX_QUESTIONS} questions."},
    )
    difficulty = forms.ChoiceField(label="Difficulty", choices=Quiz.Difficulty.choices,
                                   error_messages={"required": "Choose a difficulty.",
                                                   "invalid_choice": "Choose easy, medium or hard."})
    types = forms.MultipleChoiceField(label="Question types", choices=Question.Type.choices,
                                      error_messages={"required": "Choose at least one question type.",
                                                      "invalid_choice": "Choose question types from the list."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["count"].initial = settings.QUIZ_DEFAULT_COUNT
        self.fields["difficulty"].initial = settings.QUIZ_DEFAULT_DIFFICULTY
        self.fields["types"].initial = list(settings.QUIZ_DEFAULT_TYPES)

    # What the form shows: the posted values when bound (with its errors), else the defaults.
    @property
    def shown_count(self) -> str:
        return str(self.data.get("count", "")) if self.is_bound else str(self.fields["count"].initial)

    @property
    def shown_difficulty(self) -> str:
        return self.data.get("difficulty", "") if self.is_bound else self.fields["difficulty"].initial

    @property
    def shown_types(self) -> list[str]:
        return self.data.getlist("types") if self.is_bound else list(self.fields["types"].initial)
