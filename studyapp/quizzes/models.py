"""Quizzes written from a document's concept graph, the students' attempts, and review cards.

A Quiz is written by a `create_quiz` run (questions, answers, explanations and page citations,
each validated before it is saved). Students take it in QuizAttempts; every Answer is graded at
once. A question a student misses gets a ReviewCard, scheduled by FSRS (the `fsrs` package),
so it comes back for review later.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from studyapp.documents.models import Document
from studyapp.graphs.models import Concept, ConceptGraph


class Quiz(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        GENERATING = "generating", "Generating"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Difficulty(models.TextChoices):  # the values of studyapp.ai.schemas.Difficulty
        EASY = "easy", "Easy"
        MEDIUM = "medium", "Medium"
        HARD = "hard", "Hard"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="quizzes")
    graph = models.ForeignKey(ConceptGraph, null=True, blank=True, on_delete=models.SET_NULL, related_name="quizzes",
                              help_text="The graph the questions were written from (set when writing starts)")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quizzes")
    difficulty = models.CharField(max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM)
    count = models.PositiveSmallIntegerField(help_text="How many questions were asked for")
    types = models.JSONField(help_text="The question types asked for")
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=128)
    request_key = models.CharField(max_length=64, help_text="Hash of what was asked: the same request, the same quiz")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stats = models.JSONField(default=dict, blank=True,
                             help_text="Questions asked for, written, saved, dropped (and why), tokens")
    error = models.TextField(blank=True, help_text="Shown to the student when writing the quiz failed")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "quizzes"
        constraints = [models.UniqueConstraint(fields=["owner", "request_key"], name="quiz_unique_per_request")]

    def __str__(self) -> str:
        return f"quiz on {self.document} ({self.difficulty}, {self.count} questions)"

    @property
    def question_count(self) -> int:
        return int(self.stats.get("saved", 0))


class Question(models.Model):
    class Type(models.TextChoices):  # the values of studyapp.ai.schemas.QuestionType
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        TRUE_FALSE = "true_false", "True or false"
        FILL_IN_BLANK = "fill_in_blank", "Fill in the blank"
        SHORT_ANSWER = "short_answer", "Short answer"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=16, choices=Type.choices)
    prompt = models.TextField()
    options = models.JSONField(default=list, blank=True, help_text="Choices (multiple choice, true/false)")
    answer = models.TextField(help_text="The correct option or the expected words")
    accepted = models.JSONField(default=list, blank=True, help_text="Other answers graded as right")
    explanation = models.TextField(blank=True)
    page = models.CharField(max_length=32, help_text="Label of the page the answer rests on")
    quote = models.TextField(help_text="Verbatim from that page: the fact behind the answer")
    concepts = models.ManyToManyField(Concept, blank=True, related_name="questions")
    content_key = models.CharField(max_length=64, help_text="Hash of the fact and answer: no question repeats another")

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "position"], name="question_unique_position"),
            models.UniqueConstraint(fields=["quiz", "content_key"], name="question_unique_content"),
        ]

    def __str__(self) -> str:
        return f"Q{self.position + 1}: {self.prompt[:60]}"


class QuizAttempt(models.Model):
    class Kind(models.TextChoices):
        QUIZ = "quiz", "Whole quiz"
        RETRY = "retry", "Retry of missed questions"
        REVIEW = "review", "Review of due questions"

    quiz = models.ForeignKey(Quiz, null=True, blank=True, on_delete=models.CASCADE, related_name="attempts",
                             help_text="Empty for a review, which may span quizzes")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.QUIZ)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveSmallIntegerField(default=0)
    correct = models.PositiveSmallIntegerField(default=0)
    score = models.FloatField(default=0.0, help_text="Sum of the answers' scores")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["student", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.student} ({self.correct}/{self.total})"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class Answer(models.Model):
    """One question of an attempt: created unanswered when the attempt starts, graded when answered."""

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    position = models.PositiveSmallIntegerField()
    response = models.TextField(blank=True)
    correct = models.BooleanField(null=True, help_text="Empty until answered")
    score = models.FloatField(default=0.0)
    note = models.CharField(max_length=300, blank=True, help_text="e.g. accepted despite a small typo")
    answered_at = models.DateTimeField(null=True, blank=True)
    time_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Time the student took, if the UI measured it")

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="answer_unique_per_attempt")]

    def __str__(self) -> str:
        return f"{self.question} -> {self.response!r}"


class ReviewCard(models.Model):
    """FSRS scheduling state of one question for one student (created when they first miss it)."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="review_cards")
    card = models.JSONField(help_text="fsrs.Card.to_dict()")
    due = models.DateTimeField(db_index=True)
    state = models.PositiveSmallIntegerField(help_text="fsrs State: 1 learning, 2 review, 3 relearning")
    reps = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0, help_text="How often it was missed")
    last_review = models.DateTimeField(null=True, blank=True)
    last_rating = models.PositiveSmallIntegerField(null=True, blank=True, help_text="fsrs Rating 1-4")

    class Meta:
        ordering = ["due"]
        constraints = [models.UniqueConstraint(fields=["student", "question"], name="review_card_unique")]
        indexes = [models.Index(fields=["student", "due"])]

    def __str__(self) -> str:
        return f"review of {self.question} for {self.student} due {self.due:%Y-%m-%d %H:%M}"
