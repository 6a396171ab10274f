from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from jobs.control import cancel_run, retry_run
from jobs.live import live_states, progress_bar
from jobs.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("short_id", "kind", "progress_column", "attempts_column", "owner", "subject_link", "age", "tokens")
    list_filter = ("status", "kind", "queue")
    search_fields = ("id", "idempotency_key", "owner__username", "error")
    list_select_related = ("owner", "subject_type")
    actions = ("retry_selected", "cancel_selected")
    readonly_fields = [f.name for f in JobRun._meta.fields] + ["progress_column", "subject_link"]
    date_hierarchy = "created_at"

    class Media:
        js = ("jobs/live_progress.js",)

    def has_add_permission(self, request) -> bool:
        return False  # runs are created by submitting work, never by hand

    def get_urls(self):
        live = path("live/", self.admin_site.admin_view(self.live_view), name="jobs_jobrun_live")
        return [live, *super().get_urls()]

    def live_view(self, request):
        # admin_view lets in any staff user; the states carry errors and owners' runs, so the
        # user must also be allowed to see runs.
        if not self.has_view_permission(request):
            raise PermissionDenied
        ids = [i for i in request.GET.get("ids", "").split(",") if i]
        return JsonResponse({"runs": live_states(_valid_uuids(ids))})

    @admin.display(description="run")
    def short_id(self, run: JobRun) -> str:
        return str(run.id)[:8]

    @admin.display(description="progress", ordering="status")
    def progress_column(self, run: JobRun) -> str:
        return progress_bar(run)

    @admin.display(description="attempts")
    def attempts_column(self, run: JobRun) -> str:
        return f"{run.attempts}/{run.max_attempts}"

    @admin.display(description="subject")
    def subject_link(self, run: JobRun) -> str:
        ct = run.subject_type
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[run.subject_id])
        except Exception:
            return f"{ct.model} {run.subject_id}"
        return format_html('<a href="{}">{} {}</a>', url, ct.model, run.subject_id)

    @admin.display(description="age", ordering="created_at")
    def age(self, run: JobRun) -> str:
        return timesince(run.created_at, timezone.now()).split(",")[0]

    @admin.display(description="tokens")
    def tokens(self, run: JobRun) -> str:
        usage = run.usage or {}
        total = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
        return str(total) if total else "-"

    @admin.action(description="Retry selected failed or cancelled runs")
    def retry_selected(self, request, queryset):
        retried = sum(retry_run(run) for run in queryset)
        skipped = queryset.count() - retried
        self.message_user(request, f"Retried {retried} run(s); {skipped} were not failed or cancelled.",
                          messages.SUCCESS if retried else messages.WARNING)

    @admin.action(description="Cancel selected queued or running runs")
    def cancel_selected(self, request, queryset):
        cancelled = sum(cancel_run(run) for run in queryset)
        skipped = queryset.count() - cancelled
        self.message_user(request, f"Cancelled {cancelled} run(s); {skipped} had already finished.",
                          messages.SUCCESS if cancelled else messages.WARNING)


def _valid_uuids(ids: list[str]) -> list[str]:
    import uuid

    valid = []
    for value in ids:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return valid
