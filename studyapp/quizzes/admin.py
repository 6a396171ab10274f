"""Quizzes in the admin: generated questions with their citations, attempts, review cards.

Everything here is written by create_quiz runs or by students taking quizzes: read-only.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from studyapp.quizzes.models import Answer, Question, Quiz, QuizAttempt, ReviewCard


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class QuestionInline(ReadOnlyInline):
    model = Question
    fields = ("position", "type", "prompt", "options", "answer", "page", "quote")
    readonly_fields = fields


@admin.register(Quiz)
class QuizAdmin(ReadOnly):
    list_display = ("id", "document", "owner", "difficulty", "status", "questions_got", "dropped", "provider", "model",
                    "created_at")
    list_filter = ("status", "difficulty", "provider")
    search_fields = ("document__title", "owner__username")
    readonly_fields = ("document", "graph", "owner", "difficulty", "count", "types", "provider", "model", "status",
                       "stats", "error", "request_key", "created_at", "finished_at")
    inlines = [QuestionInline]

    @admin.display(description="questions")
    def questions_got(self, quiz: Quiz) -> str:
        return f"{quiz.stats.get('saved', 0)}/{quiz.count}"

    @admin.display(description="dropped")
    def dropped(self, quiz: Quiz) -> int:
        return quiz.stats.get("dropped", 0)


@admin.register(Question)
class QuestionAdmin(ReadOnly):
    list_display = ("prompt_short", "type", "answer", "page", "quiz_link")
    list_filter = ("type",)
    search_fields = ("prompt", "answer", "quote")
    readonly_fields = ("quiz", "position", "type", "prompt", "options", "answer", "accepted", "explanation", "page",
                       "quote", "concepts", "content_key")

    @admin.display(description="prompt")
    def prompt_short(self, question: Question) -> str:
        return question.prompt[:100]

    @admin.display(description="quiz")
    def quiz_link(self, question: Question) -> str:
        url = reverse("admin:quizzes_quiz_change", args=[question.quiz_id])
        return format_html('<a href="{}">{}</a>', url, question.quiz_id)


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = ("position", "question", "response", "correct", "score", "note", "answered_at", "time_ms")
    readonly_fields = fields


@admin.register(QuizAttempt)
class QuizAttemptAdmin(ReadOnly):
    list_display = ("id", "student", "quiz", "kind", "correct", "total", "started_at", "finished_at")
    list_filter = ("kind",)
    search_fields = ("student__username",)
    readonly_fields = ("quiz", "student", "kind", "retry_of", "started_at", "finished_at", "total", "correct", "score")
    inlines = [AnswerInline]


@admin.register(ReviewCard)
class ReviewCardAdmin(ReadOnly):
    list_display = ("student", "question", "due", "state", "reps", "lapses", "last_review")
    list_filter = ("state",)
    search_fields = ("student__username", "question__prompt")
    readonly_fields = ("student", "question", "card", "due", "state", "reps", "lapses", "last_review", "last_rating")
