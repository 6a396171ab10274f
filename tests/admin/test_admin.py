"""The admin as an operator uses it, through Django's test client, on a real Redis.

Documents: status, pages, the live progress bar of the current run, the pages inline, the error;
uploading a PDF here starts extraction. JobRuns: progress, attempts, owner, subject, age; filters;
retry and cancel actions; the JSON endpoint that keeps the bars current.
"""

from __future__ import annotations

import io
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from rq.job import Job, JobStatus

from jobs.connection import get_queue, get_redis
from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.submit import submit
from studyapp.documents.models import Document, DocumentPage
from tests.conftest import pdf_path
from tests.fixtures import make_pdfs
from tests.jobs.helpers import drain, drain_with_retries

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTS = "/admin/documents/document/"
RUNS = "/admin/jobs/jobrun/"
LIVE = "/admin/jobs/jobrun/live/"
ENCRYPTED = "libreoffice-writer-password.pdf"
# Printed page numbers i, ii, then 1: labels that differ from the page's position.
LABELLED_PDF = make_pdfs.text_pdf(
    [["Preface page."], ["Contents page."], ["Chapter one starts here."]],
    catalog_extra=b"/PageLabels << /Nums [0 << /S /r >> 2 << /S /D >>] >>",
)


@pytest.fixture(autouse=True)
def _extraction_only(settings):
    """An upload starts its extraction alone here, so each test sees the runs it made.

    With PIPELINE_AUTO_GRAPH on, an upload also queues generate_graph behind the extraction;
    that chain has its own tests.
    """
    settings.PIPELINE_AUTO_GRAPH = False


# --- reading the admin's HTML -------------------------------------------------------------------


class _AdminPage(HTMLParser):
    """Collects table rows (changelist and inline cells, by their field-* class) and the live bars."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.bars: list[dict[str, str]] = []
        self.links: list[str] = []
        self._cell: str | None = None
        self._bar: dict[str, str] | None = None
        self._bar_part: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "tr":
            self.rows.append({})
        if tag in ("td", "th") and self.rows:
            field = next((c[len("field-"):] for c in classes if c.startswith("field-")), None)
            if field:
                self._cell = field
                self.rows[-1][field] = ""
        if tag == "div" and "jobrun-live" in classes:
            self._bar = {"run": attrs["data-run"], "finished": attrs["data-finished"], "status": "", "stage": ""}
            self.bars.append(self._bar)
        if self._bar is not None and tag == "progress":
            self._bar["value"] = attrs.get("value")
        if self._bar is not None and tag == "span":
            self._bar_part = "status" if "jobrun-status" in classes else "stage" if "jobrun-stage" in classes else None

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._cell = None
        if tag == "span":
            self._bar_part = None
        if tag == "div" and self._bar is not None and self._bar_part is None:
            self._bar = None

    def handle_data(self, data):
        if self._cell and self.rows:
            self.rows[-1][self._cell] += data
        if self._bar is not None and self._bar_part:
            self._bar[self._bar_part] += data


def parse(response) -> _AdminPage:
    assert response.status_code == 200, response.status_code
    page = _AdminPage()
    page.feed(response.content.decode())
    page.rows = [{k: " ".join(v.split()) for k, v in row.items()} for row in page.rows if row]
    return page


def row_for(page: _AdminPage, field: str, text: str) -> dict[str, str]:
    matches = [row for row in page.rows if row.get(field) == text]
    assert len(matches) == 1, f"expected one row with {field}={text!r}, got {page.rows}"
    return matches[0]


def bar_for(page: _AdminPage, run: JobRun) -> dict[str, str]:
    matches = [bar for bar in page.bars if bar["run"] == str(run.pk)]
    assert matches, f"no progress bar for run {run.pk} in {page.bars}"
    return matches[0]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- setting up documents and runs ----------------------------------------------------------


def upload(owner, name: str, *, password: str = "") -> tuple[Document, JobRun]:
    with pdf_path(name).open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename=name, password=password)


def upload_bytes(owner, data: bytes, filename: str) -> tuple[Document, JobRun]:
    return document_upload(owner=owner, upload=io.BytesIO(data), filename=filename)


def admin_upload(client, owner, data: bytes, filename: str, *, title: str = "Lecture notes", password: str = ""):
    return client.post(DOCUMENTS + "add/", {
        "owner": owner.pk, "title": title, "password": password,
        "upload": SimpleUploadedFile(filename, data, content_type="application/pdf"),
        "_save": "Save",
    })


def run_action(client, action: str, *runs: JobRun):
    return client.post(RUNS, {"action": action, "_selected_action": [str(r.pk) for r in runs]}, follow=True)


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()
    return objects


def rq_job(run: JobRun) -> Job:
    return Job.fetch(str(run.pk), connection=get_redis())


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- documents --------------------------------------------------------------------------------


def test_the_document_list_shows_status_pages_progress_and_error(admin_client, alice):
    """One ready and one failed document: status, page count, the run's bar, the reason it failed."""
    ready, ready_run = upload(alice, "pdflatex-4-pages.pdf")
    failed, failed_run = upload(alice, ENCRYPTED)
    drain()

    page = parse(admin_client.get(DOCUMENTS))

    row = row_for(page, "title", "pdflatex-4-pages")
    assert (row["owner"], row["status"], row["page_count"]) == ("alice", "Ready", "4")
    assert row["error_short"] == "-"
    bar = bar_for(page, ready_run)
    assert (bar["value"], bar["status"], bar["stage"], bar["finished"]) == ("100.0", "succeeded", "done", "1")

    row = row_for(page, "title", "libreoffice-writer-password")
    assert (row["status"], row["page_count"]) == ("Failed", "-")
    assert "password required" in row["error_short"]
    bar = bar_for(page, failed_run)
    assert (bar["status"], bar["finished"]) == ("failed", "1")
    assert "password required" in bar["stage"], "a failed run's bar says why"


def test_the_document_list_shows_a_queued_document_with_an_unfinished_bar(admin_client, alice):
    """Before any worker ran: status queued and a bar the page script will keep polling."""
    document, run = upload(alice, "pdflatex-4-pages.pdf")
    page = parse(admin_client.get(DOCUMENTS))
    row = row_for(page, "title", "pdflatex-4-pages")
    assert (row["status"], row["page_count"]) == ("Queued", "-")
    bar = bar_for(page, run)
    assert (bar["value"], bar["status"], bar["stage"], bar["finished"]) == ("0.0", "queued", "queued", "0")
    assert b"jobs/live_progress.js" in admin_client.get(DOCUMENTS).content


def test_the_document_page_shows_its_pages_with_their_printed_labels(admin_client, alice):
    """The change page: status, page count, the current run's bar, and the pages inline."""
    document, run = upload_bytes(alice, LABELLED_PDF, "labelled.pdf")
    drain()
    response = admin_client.get(f"{DOCUMENTS}{document.pk}/change/")
    page = parse(response)
    html = response.content.decode()

    bar = bar_for(page, run)
    assert (bar["status"], bar["value"]) == ("succeeded", "100.0")
    assert '<div class="readonly">Ready</div>' in html
    assert '<div class="readonly">3</div>' in html
    assert "jobs/live_progress.js" in html
    # The inline: one row per page with its printed label, in file order.
    assert 'id="pages-group"' in html
    inline = [(row["index"], row["label"], row["source"], row["text_preview"]) for row in page.rows if "label" in row]
    assert inline == [("0", "i", "Text layer", "Preface page."), ("1", "ii", "Text layer", "Contents page."),
                      ("2", "1", "Text layer", "Chapter one starts here.")]
    # No page can be added or deleted by hand.
    assert 'name="pages-MAX_NUM_FORMS" value="0"' in html
    assert 'name="pages-0-DELETE"' not in html


def test_the_document_page_shows_the_error_of_a_failed_document(admin_client, alice):
    document, run = upload(alice, ENCRYPTED)
    drain()
    response = admin_client.get(f"{DOCUMENTS}{document.pk}/change/")
    page = parse(response)
    html = response.content.decode()
    assert '<div class="readonly">Failed</div>' in html
    assert "This PDF is password-protected: password required." in html
    assert bar_for(page, run)["status"] == "failed"
    assert DocumentPage.objects.filter(document=document).count() == 0


def test_the_document_page_links_to_its_own_runs_only(admin_client, alice):
    """The "jobs" link filters by subject type and id: a run on a user with the same id is not listed."""
    document, run = upload(alice, "pdflatex-4-pages.pdf")
    drain()
    JobRun.objects.create(  # subject: the user whose id happens to equal the document's
        kind="noop", subject_type=ContentType.objects.get_for_model(alice), subject_id=document.pk, owner=alice,
        idempotency_key="noop:same-id", queue="cpu_low", status="succeeded",
    )
    page = parse(admin_client.get(f"{DOCUMENTS}{document.pk}/change/"))
    link = next(href for href in page.links if href.startswith(RUNS + "?"))
    listed = parse(admin_client.get(link))
    assert [bar["run"] for bar in listed.bars] == [str(run.pk)]


def test_a_password_is_never_shown_in_the_admin(admin_client, alice):
    document, _ = upload(alice, ENCRYPTED, password="openpassword")
    for url in (DOCUMENTS, f"{DOCUMENTS}{document.pk}/change/"):
        assert b"openpassword" not in admin_client.get(url).content


# --- uploading in the admin ---------------------------------------------------------------------


def test_uploading_a_pdf_in_the_admin_starts_extraction(admin_client, alice):
    """The add form stores the document and enqueues its extract_document run (RQ job id = run id)."""
    response = admin_upload(admin_client, alice, pdf_path("pdflatex-4-pages.pdf").read_bytes(), "notes.pdf")
    assert response.status_code == 302 and response.url == DOCUMENTS

    document = Document.objects.get()
    assert (document.owner, document.title, document.status) == (alice, "Lecture notes", "queued")
    run = JobRun.objects.get(kind="extract_document")
    assert (run.kind, run.subject_id, run.owner, run.status) == ("extract_document", document.pk, alice, "queued")
    assert run.enqueued_at is not None
    job = rq_job(run)
    assert job.get_status() == JobStatus.QUEUED
    assert str(run.pk) in get_queue(run.queue).get_job_ids()

    drain()
    document, run = refreshed(document, run)
    assert (document.status, document.page_count) == ("ready", 4)
    assert DocumentPage.objects.filter(document=document).count() == 4
    assert (run.status, run.attempts) == ("succeeded", 1)


@pytest.mark.parametrize("data, filename", [
    (make_pdfs.png_bytes(), "picture.pdf"),
    (b"Just some notes, not a PDF at all.\n" * 20, "notes.pdf"),
    (b"", "empty.pdf"),
], ids=["png-renamed", "text-renamed", "empty"])
def test_a_file_that_is_not_a_pdf_is_refused_by_the_form(admin_client, alice, settings, data, filename):
    """Checked by its bytes, not its name: a form error, and nothing stored or enqueued."""
    response = admin_upload(admin_client, alice, data, filename)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    if data:
        assert errors["upload"] == ["This file is not a PDF."]
        assert b"This file is not a PDF." in response.content
    else:
        assert errors["upload"] == ["The submitted file is empty."]
    assert Document.objects.count() == 0
    assert JobRun.objects.count() == 0
    assert stored_files(settings) == []
    assert get_redis().keys("rq:job:*") == []


def test_uploading_an_encrypted_pdf_with_its_password_succeeds(admin_client, alice):
    response = admin_upload(admin_client, alice, pdf_path(ENCRYPTED).read_bytes(), ENCRYPTED, password="openpassword")
    assert response.status_code == 302
    document = Document.objects.get()
    drain()
    document.refresh_from_db()
    assert document.status == "ready" and document.page_count >= 1
    assert document.pending_password == "", "the password is forgotten once extraction ended"
    assert JobRun.objects.get(kind="extract_document").status == "succeeded"


def test_uploading_an_encrypted_pdf_again_with_its_password_fixes_the_failed_document(admin_client, alice):
    """Without the password it fails; the same file again with the password: the same document, a new run."""
    data = pdf_path(ENCRYPTED).read_bytes()
    admin_upload(admin_client, alice, data, ENCRYPTED)
    drain()
    document = Document.objects.get()
    assert document.status == "failed" and "password required" in document.error

    response = admin_upload(admin_client, alice, data, ENCRYPTED, password="openpassword")
    assert response.status_code == 302
    assert Document.objects.get().pk == document.pk
    first, second = JobRun.objects.filter(kind="extract_document").order_by("created_at")
    assert (first.status, second.status) == ("failed", "queued")
    drain()
    document, second = refreshed(document, second)
    assert (document.status, second.status) == ("ready", "succeeded")


def test_the_upload_form_asks_for_owner_title_file_and_password(admin_client):
    html = admin_client.get(DOCUMENTS + "add/").content.decode()
    assert 'enctype="multipart/form-data"' in html
    for name in ("owner", "title", "upload"):
        assert f'name="{name}"' in html
    assert '<input type="password" name="password"' in html


# --- the run list -------------------------------------------------------------------------------


def test_the_run_list_shows_progress_attempts_owner_subject_and_age(admin_client, alice):
    document, run = upload(alice, "pdflatex-4-pages.pdf")
    drain()
    page = parse(admin_client.get(RUNS))
    row = row_for(page, "short_id", str(run.pk)[:8])
    assert row["kind"] == "extract_document"
    assert row["attempts_column"] == "1/4"
    assert row["owner"] == "alice"
    assert row["subject_link"] == f"document {document.pk}"
    assert f'{DOCUMENTS}{document.pk}/change/' in page.links
    assert row["age"] in ("0 minutes", "1 minute")
    assert row["tokens"] == "-"
    bar = bar_for(page, run)
    assert (bar["value"], bar["status"], bar["stage"]) == ("100.0", "succeeded", "done")


def test_the_run_list_filters_by_status_and_kind(admin_client, alice):
    ok_doc, ok_run = upload(alice, "pdflatex-4-pages.pdf")
    bad_doc, bad_run = upload(alice, ENCRYPTED)
    drain()
    noop_run = submit("noop", alice, alice)  # stays queued: nothing drains it

    def listed(query: str) -> set[str]:
        return {bar["run"] for bar in parse(admin_client.get(RUNS + query)).bars}

    assert listed("") == {str(ok_run.pk), str(bad_run.pk), str(noop_run.pk)}
    assert listed("?status__exact=failed") == {str(bad_run.pk)}
    assert listed("?status__exact=queued") == {str(noop_run.pk)}
    assert listed("?kind=extract_document") == {str(ok_run.pk), str(bad_run.pk)}
    assert listed("?kind=noop") == {str(noop_run.pk)}
    assert listed("?kind=extract_document&status__exact=succeeded") == {str(ok_run.pk)}
    assert listed("?status__exact=cancelled") == set()

    html = admin_client.get(RUNS).content.decode()
    for choice in ("?status__exact=failed", "?kind=extract_document", "?kind=noop"):
        assert f'href="{choice}"' in html, f"the filter sidebar offers {choice}"


def test_the_run_list_finds_a_run_by_the_short_id_it_shows(admin_client, alice):
    _, run = upload(alice, "pdflatex-4-pages.pdf")
    other = submit("noop", alice, alice)
    page = parse(admin_client.get(RUNS, {"q": str(run.pk)[:8]}))
    assert [bar["run"] for bar in page.bars] == [str(run.pk)]
    page = parse(admin_client.get(RUNS, {"q": "alice"}))
    assert {bar["run"] for bar in page.bars} == {str(run.pk), str(other.pk)}


def test_runs_cannot_be_added_by_hand(admin_client):
    assert admin_client.get(RUNS + "add/").status_code == 403
    assert b'href="/admin/jobs/jobrun/add/"' not in admin_client.get(RUNS).content
    assert b'href="/admin/jobs/jobrun/add/"' not in admin_client.get("/admin/").content


def test_a_run_page_is_read_only(admin_client, alice):
    _, run = upload(alice, "pdflatex-4-pages.pdf")
    drain()
    html = admin_client.get(f"{RUNS}{run.pk}/change/").content.decode()
    assert f'data-run="{run.pk}"' in html
    assert '<div class="readonly">extract_document</div>' in html
    for field in ("kind", "status", "owner", "payload", "attempts"):
        assert f'name="{field}"' not in html


# --- actions ------------------------------------------------------------------------------------


def test_retrying_a_failed_run_requeues_it_and_a_permanent_failure_fails_again(admin_client, alice):
    """Retry resets the run to queued with a fresh budget; the encrypted PDF without password fails again."""
    document, run = upload(alice, ENCRYPTED)
    drain()
    document, run = refreshed(document, run)
    assert (run.status, run.attempts, document.status) == ("failed", 1, "failed")

    response = run_action(admin_client, "retry_selected", run)
    assert messages_of(response) == ["Retried 1 run(s); 0 were not failed or cancelled."]
    document, run = refreshed(document, run)
    assert (run.status, run.attempts, run.stage, run.error) == ("queued", 0, "queued (retry)", "")
    assert (document.status, document.error) == ("queued", "")
    assert rq_job(run).get_status() == JobStatus.QUEUED
    bar = bar_for(parse(admin_client.get(RUNS)), run)
    assert (bar["status"], bar["stage"], bar["value"], bar["finished"]) == ("queued", "queued (retry)", "0.0", "0")

    drain()
    document, run = refreshed(document, run)
    assert (run.status, run.attempts) == ("failed", 1)
    assert "password required" in run.error and "password required" in document.error
    row = row_for(parse(admin_client.get(RUNS)), "short_id", str(run.pk)[:8])
    assert row["attempts_column"] == "1/4"


def test_retrying_a_run_whose_cause_was_fixed_succeeds(admin_client, alice, settings):
    """The stored file went missing: four attempts, failed; the file is back; retry in the admin: succeeded."""
    document, run = upload(alice, "pdflatex-4-pages.pdf")
    stored = Path(document.file.path)
    hidden = stored.with_suffix(".away")
    stored.rename(hidden)
    drain_with_retries()
    document, run = refreshed(document, run)
    assert (run.status, run.attempts, document.status) == ("failed", 4, "failed")
    assert "FileNotFoundError" in run.error
    page = parse(admin_client.get(RUNS + "?status__exact=failed"))
    assert row_for(page, "short_id", str(run.pk)[:8])["attempts_column"] == "4/4"

    hidden.rename(stored)
    response = run_action(admin_client, "retry_selected", run)
    assert messages_of(response) == ["Retried 1 run(s); 0 were not failed or cancelled."]
    drain()
    document, run = refreshed(document, run)
    assert (run.status, run.attempts, run.error) == ("succeeded", 1, "")
    assert (document.status, document.page_count) == ("ready", 4)
    row = row_for(parse(admin_client.get(RUNS)), "short_id", str(run.pk)[:8])
    assert row["attempts_column"] == "1/4"


def test_cancelling_a_queued_run_cancels_it_and_the_worker_skips_it(admin_client, alice):
    document, run = upload(alice, "pdflatex-4-pages.pdf")
    response = run_action(admin_client, "cancel_selected", run)
    assert messages_of(response) == ["Cancelled 1 run(s); 0 had already finished."]
    document, run = refreshed(document, run)
    assert (run.status, run.stage, run.error) == ("cancelled", "cancelled", "cancelled by the user")
    assert (document.status, document.error) == ("failed", "cancelled by the user")
    assert rq_job(run).get_status() == JobStatus.CANCELED

    drain()
    document, run = refreshed(document, run)
    assert run.status == "cancelled" and run.attempts == 0
    assert DocumentPage.objects.filter(document=document).count() == 0
    bar = bar_for(parse(admin_client.get(RUNS)), run)
    assert (bar["status"], bar["finished"]) == ("cancelled", "1")

    # A cancelled run can be retried like a failed one.
    response = run_action(admin_client, "retry_selected", run)
    assert messages_of(response) == ["Retried 1 run(s); 0 were not failed or cancelled."]
    drain()
    document, run = refreshed(document, run)
    assert (run.status, document.status, document.page_count) == ("succeeded", "ready", 4)


def test_actions_on_runs_in_the_wrong_state_are_skipped_and_reported(admin_client, alice):
    ok_doc, ok_run = upload(alice, "pdflatex-4-pages.pdf")
    bad_doc, bad_run = upload(alice, ENCRYPTED)
    drain()

    response = run_action(admin_client, "retry_selected", ok_run)
    assert messages_of(response) == ["Retried 0 run(s); 1 were not failed or cancelled."]
    assert 'class="warning"' in response.content.decode()
    response = run_action(admin_client, "cancel_selected", ok_run, bad_run)
    assert messages_of(response) == ["Cancelled 0 run(s); 2 had already finished."]
    ok_run, bad_run = refreshed(ok_run, bad_run)
    assert (ok_run.status, bad_run.status) == ("succeeded", "failed")

    # A mixed selection does what it can and counts the rest.
    response = run_action(admin_client, "retry_selected", ok_run, bad_run)
    assert messages_of(response) == ["Retried 1 run(s); 1 were not failed or cancelled."]
    ok_run, bad_run = refreshed(ok_run, bad_run)
    assert (ok_run.status, bad_run.status) == ("succeeded", "queued")
    response = run_action(admin_client, "retry_selected", bad_run)
    assert messages_of(response) == ["Retried 0 run(s); 1 were not failed or cancelled."]


# --- the live endpoint --------------------------------------------------------------------------


def test_the_live_endpoint_returns_the_state_of_the_runs_asked_for(admin_client, alice):
    """Known runs by id; malformed and unknown ids are left out, not an error."""
    _, done = upload(alice, "pdflatex-4-pages.pdf")
    drain()
    _, queued = upload(alice, ENCRYPTED)
    ids = [str(done.pk), "bad-id", str(queued.pk), "", str(uuid.uuid4()), "1;DROP TABLE", str(done.pk).upper()]
    response = admin_client.get(LIVE, {"ids": ",".join(ids)})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    runs = response.json()["runs"]
    assert set(runs) == {str(done.pk), str(queued.pk)}
    assert runs[str(done.pk)] == {
        "id": str(done.pk), "kind": "extract_document", "status": "succeeded", "finished": True, "stage": "done",
        "percent": 100.0, "message": "", "done": None, "total": None, "eta_s": None, "attempts": 1,
        "max_attempts": 4, "error": "", "text": "done",
    }
    state = runs[str(queued.pk)]
    assert (state["status"], state["finished"], state["stage"], state["percent"]) == ("queued", False, "queued", 0.0)

    assert admin_client.get(LIVE).json() == {"runs": {}}
    assert admin_client.get(LIVE, {"ids": "nope,,also-nope"}).json() == {"runs": {}}


def test_the_live_endpoint_reads_a_running_job_s_progress_from_job_meta(admin_client, alice):
    """While a run is running, job.meta (written at every page) is fresher than the row."""
    document, run = upload(alice, "GeoTopo-komprimiert.pdf")
    JobRun.objects.filter(pk=run.pk).update(status="running", stage="extracting page 10/117", percent=8.5, attempts=1)
    job = rq_job(run)
    job.meta["progress"] = {"stage": "extracting page 37/117", "percent": 31.6, "message": "", "done": 37,
                            "total": 117, "eta_s": 12.4, "at": 0}
    job.save_meta()

    state = admin_client.get(LIVE, {"ids": str(run.pk)}).json()["runs"][str(run.pk)]
    assert (state["status"], state["stage"], state["percent"]) == ("running", "extracting page 37/117", 31.6)
    assert (state["done"], state["total"], state["finished"]) == (37, 117, False)
    assert state["text"] == "extracting page 37/117 (about 12 s left)"

    bar = bar_for(parse(admin_client.get(RUNS)), run)
    assert (bar["value"], bar["stage"], bar["finished"]) == ("31.6", "extracting page 37/117 (about 12 s left)", "0")

    # Redis lost the job: the row's own progress still answers.
    get_redis().flushall()
    state = admin_client.get(LIVE, {"ids": str(run.pk)}).json()["runs"][str(run.pk)]
    assert (state["stage"], state["percent"]) == ("extracting page 10/117", 8.5)


def test_the_live_endpoint_shows_a_waiting_run_s_own_stage_not_its_last_page(admin_client, alice):
    """A run parked for a retry says so, rather than the page it had reached."""
    _, run = upload(alice, "pdflatex-4-pages.pdf")
    JobRun.objects.filter(pk=run.pk).update(
        status="waiting", stage="retrying in 8s", percent=50.0, attempts=1,
        progress={"stage": "extracting page 2/4", "percent": 50.0, "done": 2, "total": 4, "eta_s": 1.0},
    )
    state = admin_client.get(LIVE, {"ids": str(run.pk)}).json()["runs"][str(run.pk)]
    assert (state["status"], state["stage"], state["percent"], state["text"]) == (
        "waiting", "retrying in 8s", 50.0, "retrying in 8s")


def test_the_live_endpoint_is_for_staff_who_may_see_runs(client, alice, django_user_model):
    _, run = upload(alice, "pdflatex-4-pages.pdf")
    url = f"{LIVE}?ids={run.pk}"

    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")

    client.force_login(alice)  # not staff
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")

    clerk = django_user_model.objects.create_user("clerk", password="clerk-password-1", is_staff=True)
    client.force_login(clerk)  # staff, but not allowed to see runs
    assert client.get(url).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    clerk = django_user_model.objects.get(pk=clerk.pk)
    client.force_login(clerk)
    response = client.get(url)
    assert response.status_code == 200 and set(response.json()["runs"]) == {str(run.pk)}


def test_a_long_document_shows_its_first_pages_inline_and_the_rest_a_screen_at_a_time(admin_client, alice):
    """A big book must not render hundreds of pages in one admin page."""
    from studyapp.documents.admin import INLINE_PAGES, DocumentPageAdmin
    from tests.fixtures.make_pdfs import numbered_pdf

    document, _ = upload_bytes(alice, numbered_pdf(70), "long.pdf")
    drain()
    response = admin_client.get(f"{DOCUMENTS}{document.pk}/change/")
    page = parse(response)
    inline = [row["label"] for row in page.rows if "label" in row and "text_preview" in row]
    assert inline == [str(n) for n in range(1, INLINE_PAGES + 1)]
    link = next(href for href in page.links if f"documentpage/?document__id__exact={document.pk}" in href)
    assert "70 page(s), 50 a screen" in response.content.decode()

    first = parse(admin_client.get(link.replace("&amp;", "&")))
    labels = [row["label"] for row in first.rows if "label" in row]
    assert labels == [str(n) for n in range(1, DocumentPageAdmin.list_per_page + 1)]
    second = parse(admin_client.get(link.replace("&amp;", "&") + "&p=2"))
    assert [row["label"] for row in second.rows if "label" in row] == [str(n) for n in range(51, 71)]
