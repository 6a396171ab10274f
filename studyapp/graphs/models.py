"""Concept graphs: concepts and typed relations of a document, each with evidence (page + quote)."""

from __future__ import annotations

from django.db import models

from studyapp.ai.schemas import RelationType
from studyapp.documents.models import Document


class ConceptGraph(models.Model):
    """One build of a document's graph by one provider and model.

    A document can be rebuilt with another provider or model; its current graph is the newest
    ready one, so the old graph stays in use until the new one succeeds.
    """

    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="graphs")
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=128)
    content_sha256 = models.CharField(max_length=64, help_text="The document's content this graph was built from")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BUILDING)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["document", "provider", "model", "content_sha256"],
                                    name="graph_unique_per_build"),
        ]

    def __str__(self) -> str:
        return f"graph of {self.document} ({self.provider}/{self.model})"


class GraphChunk(models.Model):
    """A checkpoint: the provider's answer for one chunk, stored as soon as it arrives."""

    class Status(models.TextChoices):
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    graph = models.ForeignKey(ConceptGraph, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    pages = models.CharField(max_length=64, help_text="first-last page label")
    status = models.CharField(max_length=8, choices=Status.choices)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["graph", "index"]
        constraints = [models.UniqueConstraint(fields=["graph", "index"], name="chunk_unique_per_graph")]


class Concept(models.Model):
    graph = models.ForeignKey(ConceptGraph, on_delete=models.CASCADE, related_name="concepts")
    name = models.CharField(max_length=120)
    key = models.CharField(max_length=120, help_text="normalised name, unique in the graph")
    aliases = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    importance = models.FloatField(default=0.0)
    pages = models.JSONField(default=list, blank=True, help_text="page labels where it appears")

    class Meta:
        ordering = ["-importance", "name"]
        constraints = [models.UniqueConstraint(fields=["graph", "key"], name="concept_unique_per_graph")]

    def __str__(self) -> str:
        return self.name


class Relation(models.Model):
    graph = models.ForeignKey(ConceptGraph, on_delete=models.CASCADE, related_name="relations")
    source = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="incoming")
    type = models.CharField(max_length=16, choices=[(t.value, t.value.replace("_", " ")) for t in RelationType])
    description = models.TextField(blank=True)
    weight = models.FloatField(default=1.0)
    page = models.CharField(max_length=32, help_text="page label of the evidence")
    quote = models.TextField(help_text="evidence, verbatim from that page")

    class Meta:
        ordering = ["-weight"]

    def __str__(self) -> str:
        return f"{self.source} {self.type} {self.target}"


class Explanation(models.Model):
    """How two concepts of a graph connect, in words, citing pages."""

    graph = models.ForeignKey(ConceptGraph, on_delete=models.CASCADE, related_name="explanations")
    source = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    citations = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["graph", "source", "target"], name="explanation_unique_pair")]

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"
