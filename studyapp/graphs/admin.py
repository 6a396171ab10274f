"""Concept graphs in the admin: concepts and relations with their evidence."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from studyapp.graphs.models import Concept, ConceptGraph, Explanation, Relation


class BuiltByJobs(admin.ModelAdmin):
    """Graph rows are written by generate_graph and explain_connection runs, never by hand."""

    def has_add_permission(self, request) -> bool:
        return False


class ConceptInline(admin.TabularInline):
    model = Concept
    fields = ("name", "aliases", "importance", "pages", "description")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RelationInline(admin.TabularInline):
    model = Relation
    fk_name = "graph"
    fields = ("source", "type", "target", "weight", "page", "quote")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConceptGraph)
class ConceptGraphAdmin(BuiltByJobs):
    list_display = ("document", "provider", "model", "status", "concept_count", "relation_count", "tokens",
                    "created_at", "finished_at")
    list_filter = ("status", "provider", "model")
    search_fields = ("document__title", "document__owner__username")
    readonly_fields = ("document", "provider", "model", "content_sha256", "status", "stats", "error", "created_at",
                       "finished_at")
    inlines = [ConceptInline, RelationInline]

    @admin.display(description="concepts")
    def concept_count(self, graph: ConceptGraph) -> int:
        return graph.stats.get("concepts", 0)

    @admin.display(description="relations")
    def relation_count(self, graph: ConceptGraph) -> int:
        return graph.stats.get("relations", 0)

    @admin.display(description="tokens")
    def tokens(self, graph: ConceptGraph) -> int:
        return graph.stats.get("prompt_tokens", 0) + graph.stats.get("completion_tokens", 0)


@admin.register(Concept)
class ConceptAdmin(BuiltByJobs):
    list_display = ("name", "graph", "importance", "pages")
    search_fields = ("name", "key")
    readonly_fields = ("graph", "name", "key", "aliases", "description", "importance", "pages")


@admin.register(Relation)
class RelationAdmin(BuiltByJobs):
    list_display = ("source", "type", "target", "page", "quote_short", "graph_link")
    list_filter = ("type",)
    search_fields = ("source__name", "target__name", "quote")
    readonly_fields = ("graph", "source", "target", "type", "description", "weight", "page", "quote")

    @admin.display(description="quote")
    def quote_short(self, relation: Relation) -> str:
        return relation.quote[:100]

    @admin.display(description="graph")
    def graph_link(self, relation: Relation) -> str:
        url = reverse("admin:graphs_conceptgraph_change", args=[relation.graph_id])
        return format_html('<a href="{}">{}</a>', url, relation.graph_id)


@admin.register(Explanation)
class ExplanationAdmin(BuiltByJobs):
    list_display = ("source", "target", "graph", "provider", "model", "created_at")
    readonly_fields = ("graph", "source", "target", "text", "citations", "provider", "model", "created_at")
