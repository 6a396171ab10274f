from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.text import Truncator

from jobs import control
from jobs.control import cancel_run, retry_run
from jobs.live import live_states, progress_bar
from jobs.models import DeadLetter, JobRun, UsageDaily


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
        queues = path("queues/", self.admin_site.admin_view(self.queues_view), name="jobs_queues")
        drain = path("queues/<str:name>/drain/", self.admin_site.admin_view(self.drain_view), name="jobs_queue_drain")
        return [live, queues, drain, *super().get_urls()]

    # --- ops (issue 6): pause, resume and drain ---

    def queues_view(self, request):
        """Queue depths and workers; pause or resume processing (rq suspend / resume)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            action = request.POST.get("action")
            if action == "pause":
                control.pause_processing()
                self.message_user(request, "Processing paused: workers take no new jobs; running jobs finish.",
                                  messages.WARNING)
            elif action == "resume":
                control.resume_processing()
                self.message_user(request, "Processing resumed.", messages.SUCCESS)
            return redirect("admin:jobs_queues")
        context = {**self.admin_site.each_context(request), "title": "Queues", "paused": control.processing_paused(),
                   "queues": control.queue_overview(settings.JOB_QUEUE_NAMES),
                   "can_change": self.has_change_permission(request)}
        return render(request, "admin/jobs/queues.html", context)

    def drain_view(self, request, name: str):
        """Empty one queue after a confirmation; the drained runs end cancelled with the reason."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if name not in settings.JOB_QUEUE_NAMES:
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            result = control.drain_queue(name)
            self.message_user(request, f"Drained {name}: {result.removed} job(s) removed, {result.cancelled} run(s) "
                                       "cancelled.", messages.SUCCESS)
            return redirect("admin:jobs_queues")
        queue = next(q for q in control.queue_overview([name]))
        context = {**self.admin_site.each_context(request), "title": f"Drain {name}?", "queue": queue}
        return render(request, "admin/jobs/drain_confirm.html", context)

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


# --- ops (issue 6): dead letters and usage ---------------------------------------------------------


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    """Failed runs with their error and attempts, until requeued or discarded."""

    list_display = ("short_id", "kind", "error_column", "attempts_column", "owner", "subject_link", "finished_at")
    list_filter = ("kind", "queue")
    search_fields = ("id", "owner__username", "error")
    list_select_related = ("owner", "subject_type")
    actions = ("requeue_selected", "discard_selected")
    readonly_fields = [f.name for f in JobRun._meta.fields] + ["subject_link"]
    short_id = JobRunAdmin.short_id
    attempts_column = JobRunAdmin.attempts_column
    subject_link = JobRunAdmin.subject_link

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=control.dead_letters().values("pk"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # discard instead: the run stays for the record

    @admin.display(description="error")
    def error_column(self, run: JobRun) -> str:
        return Truncator(run.error).chars(160)

    @admin.action(description="Requeue selected runs (fresh attempts)", permissions=["change"])
    def requeue_selected(self, request, queryset):
        requeued = control.requeue_runs(queryset)
        self.message_user(request, f"Requeued {requeued} run(s).", messages.SUCCESS if requeued else messages.WARNING)

    @admin.action(description="Discard selected runs (keep them for the record)", permissions=["change"])
    def discard_selected(self, request, queryset):
        discarded = control.discard_runs(queryset)
        self.message_user(request, f"Discarded {discarded} run(s).", messages.SUCCESS if discarded else messages.WARNING)

    # A dead letter is a JobRun: the JobRun permissions apply (not the proxy model's own).
    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("jobs.view_jobrun") or request.user.has_perm("jobs.change_jobrun")

    def has_change_permission(self, request, obj=None) -> bool:
        # The actions change runs; the run page itself is read-only (readonly_fields).
        return request.user.has_perm("jobs.change_jobrun")


@admin.register(UsageDaily)
class UsageDailyAdmin(admin.ModelAdmin):
    list_display = ("day", "owner", "runs", "prompt_tokens", "completion_tokens")
    list_filter = ("day",)
    search_fields = ("owner__username",)
    date_hierarchy = "day"
    readonly_fields = [f.name for f in UsageDaily._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
