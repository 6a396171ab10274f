"""The job panel: the student's running and recent runs, cancel and retry; failed = dead letters
(requeue or discard them; a discarded run leaves the failed view and stays in "all")."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from jobs.control import cancel_run, discard_runs, retry_run
from jobs.models import JobRun
from studyapp.web.runs import JOB_FILTERS, run_view, student_runs
from studyapp.web.views.common import own_document, own_run, safe_next, student_required
from studyapp.web.views.library import document_state, live_response

RUNS_PER_SCREEN = 25


@require_GET
@student_required
def job_list(request: HttpRequest) -> HttpResponse:
    job_filter = request.GET.get("filter", "all")
    if job_filter not in JOB_FILTERS:
        job_filter = "all"
    runs = student_runs(request.user, job_filter).prefetch_related("subject")
    screen = Paginator(runs, RUNS_PER_SCREEN).get_page(request.GET.get("page"))
    counts = {"active": student_runs(request.user, "active").count(),
              "failed": student_runs(request.user, "failed").count()}
    return render(request, "web/jobs.html", {
        "filters": JOB_FILTERS, "job_filter": job_filter, "screen": screen, "counts": counts, "nav": "jobs",
        "failed_view": job_filter == "failed", "filter_query": f"&filter={job_filter}",
        "rows": [run_view(run) for run in screen.object_list],
    })


@require_GET
@student_required
def job_row(request: HttpRequest, run_id: str) -> HttpResponse:
    """One row of the panel, polled while its run is unfinished."""
    return _row(request, own_run(request, run_id))


def _row(request: HttpRequest, run: JobRun) -> HttpResponse:
    failed_view = request.GET.get("filter", request.POST.get("filter")) == "failed"
    return render(request, "web/partials/job_row.html", {"row": run_view(run), "failed_view": failed_view})


@require_POST
@student_required
def job_cancel(request: HttpRequest, run_id: str) -> HttpResponse:
    run = own_run(request, run_id)
    if not cancel_run(run) and not request.htmx:
        messages.info(request, "That job had already finished.")
    run.refresh_from_db()
    return _after_action(request, run)


@require_POST
@student_required
def job_retry(request: HttpRequest, run_id: str) -> HttpResponse:
    run = own_run(request, run_id)
    if not retry_run(run) and not request.htmx:
        messages.info(request, "Only a failed or cancelled job can be tried again.")
    run.refresh_from_db()
    return _after_action(request, run)


def _after_action(request: HttpRequest, run: JobRun) -> HttpResponse:
    """An HTMX button gets the part it sits in redrawn; a plain form goes back where it came from."""
    if request.htmx:
        if request.POST.get("respond") == "document" and request.POST.get("document", "").isdigit():
            document = own_document(request, int(request.POST["document"]))
            return live_response(request, document_state(document))
        return _row(request, run)
    return redirect(safe_next(request, reverse("web:jobs")))


@require_POST
@student_required
def jobs_requeue(request: HttpRequest) -> HttpResponse:
    """Requeue the selected failed runs (the dead-letter view's bulk action)."""
    ids = request.POST.getlist("run")
    runs = JobRun.objects.filter(owner=request.user, pk__in=_valid_ids(ids), status=JobRun.Status.FAILED)
    requeued = sum(retry_run(run) for run in runs)
    if requeued:
        messages.success(request, f"Requeued {requeued} job(s).")
    else:
        messages.info(request, "Select the failed jobs to requeue.")
    return redirect(f"{reverse('web:jobs')}?filter=failed")


@require_POST
@student_required
def jobs_discard(request: HttpRequest) -> HttpResponse:
    """Discard the selected failed runs: they leave the dead-letter view and stay in "all"."""
    runs = JobRun.objects.filter(owner=request.user, pk__in=_valid_ids(request.POST.getlist("run")),
                                 status=JobRun.Status.FAILED, discarded_at__isnull=True)
    discarded = discard_runs(runs)
    if discarded:
        messages.success(request, f"Discarded {discarded} job(s); they are still listed under All.")
    else:
        messages.info(request, "Select the failed jobs to discard.")
    return redirect(f"{reverse('web:jobs')}?filter=failed")


@require_POST
@student_required
def job_discard(request: HttpRequest, run_id: str) -> HttpResponse:
    """Discard one failed run. With HTMX its row leaves the failed view (an empty answer replaces it)."""
    run = own_run(request, run_id)
    discarded = discard_runs([run])
    if request.htmx:
        run.refresh_from_db()
        if discarded and _failed_view(request):
            return render(request, "web/partials/failed_count.html",
                          {"failed_count": student_runs(request.user, "failed").count()})
        return _row(request, run)
    if discarded:
        messages.success(request, "Discarded 1 job; it is still listed under All.")
    else:
        messages.info(request, "Only a failed job can be discarded.")
    return redirect(safe_next(request, f"{reverse('web:jobs')}?filter=failed"))


def _failed_view(request: HttpRequest) -> bool:
    return request.GET.get("filter", request.POST.get("filter")) == "failed"


def _valid_ids(ids: list[str]) -> list[str]:
    import uuid

    valid = []
    for value in ids[:200]:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return valid
