"""The admin in a real browser: upload a PDF, watch its run progress live, without a reload.

A real forking worker (`manage.py rqworker`) extracts the 117-page GeoTopo-komprimiert.pdf while
chromium shows the JobRun and Document lists; the page script polls the live endpoint and moves
the bars. The live server and the worker share the test database through its file (SQLite) or
server (PostgreSQL): worker_env passes its DATABASE_URL.

SCREENSHOTS=1 saves docs/screenshots/admin-jobruns.png and admin-document.png mid-extraction.
"""

from __future__ import annotations

import os
import re

import pytest
from rq.job import Job

from jobs.connection import get_redis
from jobs.models import JobRun
from studyapp.documents.models import Document, DocumentPage
from tests.browser import (  # noqa: F401 (browser and page are fixtures)
    admin_login, browser, mark_page, new_tab, page, page_was_not_reloaded, poll, screenshot,
)
from tests.conftest import pdf_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GEOTOPO = "GeoTopo-komprimiert.pdf"
STAGE = re.compile(r"^extracting page (\d+)/117\b")

READ_BAR = """(runId) => {
  const el = document.querySelector(`.jobrun-live[data-run="${runId}"]`);
  if (!el) { return null; }
  return {value: el.querySelector("progress").value, status: el.querySelector(".jobrun-status").textContent,
          stage: el.querySelector(".jobrun-stage").textContent, finished: el.getAttribute("data-finished")};
}"""


@pytest.fixture(autouse=True)
def _extraction_only(settings):
    """The upload starts its extraction alone (no generate_graph behind it): this test watches one run.

    The live server runs in this process, so the setting applies to the upload it handles.
    """
    settings.PIPELINE_AUTO_GRAPH = False


@pytest.mark.slow
def test_the_admin_shows_an_uploaded_document_s_extraction_progress_live(
    page, live_server, django_user_model, start_worker
):
    django_user_model.objects.create_superuser("staff", password="staff-password-1")
    alice = django_user_model.objects.create_user("alice", password="alice-password-1")
    base = live_server.url
    # The bars poll every 200 ms here (1 s in production), so a fast machine still shows the
    # extraction moving several times before it ends.
    page.context.add_init_script("window.STUDYAPP_POLL_MS = 200;")

    # Upload through the admin's add form: it stores the document and enqueues its extraction.
    admin_login(page, base, "staff", "staff-password-1", next_url="/admin/documents/document/add/")
    page.select_option("#id_owner", label="alice")
    page.fill("#id_title", "Geometrie und Topologie")
    page.set_input_files("#id_upload", str(pdf_path(GEOTOPO)))
    with page.expect_navigation():
        page.click('input[name="_save"]')
    assert page.url == f"{base}/admin/documents/document/"
    assert "was added successfully" in page.text_content(".messagelist")
    document = Document.objects.get(owner=alice)
    run = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    assert run.status == "queued"
    assert Job.exists(str(run.pk), connection=get_redis())

    # Both lists open before any worker runs; the bars start at 0 and "queued".
    documents_page = page
    runs_page = new_tab(page)
    runs_page.goto(f"{base}/admin/jobs/jobrun/")
    pages = {"jobruns": runs_page, "document": documents_page}
    for tab in pages.values():
        mark_page(tab)
        assert tab.evaluate(READ_BAR, str(run.pk)) == {"value": 0, "status": "queued", "stage": "queued",
                                                       "finished": "0"}

    start_worker("cpu_high", "cpu_default", "cpu_low", burst=True)

    shot: set[str] = set()

    def read_both() -> dict[str, dict]:
        states = {name: tab.evaluate(READ_BAR, str(run.pk)) for name, tab in pages.items()}
        for name, tab in pages.items():
            if name not in shot and 20 <= states[name]["value"] <= 80 and STAGE.match(states[name]["stage"]):
                screenshot(tab, f"admin-{name}.png")
                shot.add(name)
        return states

    seen = poll(read_both, lambda states: all(s["finished"] == "1" for s in states.values()), timeout=90,
                what="both bars to show the run finished")

    for name, tab in pages.items():
        states = [s[name] for s in seen]
        final = states[-1]
        assert (final["status"], final["value"], final["stage"]) == ("succeeded", 100, "done"), name
        values = [s["value"] for s in states]
        assert values == sorted(values), f"{name}: the bar never goes back: {values}"
        midway = sorted({v for v in values if 0 < v < 100})
        assert len(midway) >= 3, f"{name}: expected to watch the bar move, saw {midway}"
        pages_seen = {int(m.group(1)) for s in states if (m := STAGE.match(s["stage"]))}
        assert len(pages_seen) >= 3 and any(0 < p < 117 for p in pages_seen), f"{name}: stages {pages_seen}"
        assert any(s["status"] == "running" for s in states), name
        assert page_was_not_reloaded(tab), f"{name}: the page was reloaded"
        assert tab.console_errors == [], f"{name}: {tab.console_errors}"
    if os.environ.get("SCREENSHOTS") == "1":
        assert shot == set(pages), f"no mid-extraction screenshot of {set(pages) - shot}"
    # The run's row was drawn while it was queued (0 attempts); the script keeps that cell current too.
    assert runs_page.text_content("td.field-attempts_column") == "1/4"
    assert runs_page.url == f"{base}/admin/jobs/jobrun/"
    assert documents_page.url == f"{base}/admin/documents/document/"

    run.refresh_from_db()
    document.refresh_from_db()
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert (document.status, document.page_count) == ("ready", 117)
    assert DocumentPage.objects.filter(document=document).count() == 117


def test_a_staff_user_who_may_not_see_runs_gets_one_refusal_and_no_more_polling(page, live_server, django_user_model):
    """The live endpoint answers 403 to staff without the view permission on runs; the script stops."""
    from django.contrib.auth.models import Permission

    from jobs.pipelines import document_upload

    clerk = django_user_model.objects.create_user("clerk", password="clerk-password-1", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_document"))
    with pdf_path("pdflatex-4-pages.pdf").open("rb") as fh:
        document, run = document_upload(owner=clerk, upload=fh, filename="notes.pdf")  # stays queued: no worker

    live_requests: list[int] = []
    page.on("response", lambda r: "/admin/jobs/jobrun/live/" in r.url and live_requests.append(r.status))
    admin_login(page, live_server.url, "clerk", "clerk-password-1", next_url="/admin/documents/document/")
    assert page.evaluate(READ_BAR, str(run.pk))["status"] == "queued"
    page.wait_for_timeout(3500)  # the script asks once a second while it is allowed to
    assert live_requests == [403]
    assert page.evaluate(READ_BAR, str(run.pk))["finished"] == "0"
