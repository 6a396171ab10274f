"""The web UI through Django's test client on a real Redis: accounts, the library and uploads, the live
pipeline partial, a document's pages and graph, explanations, and the job panel's actions."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jobs.models import JobRun
from studyapp.documents.models import Document
from studyapp.graphs.models import Explanation
from tests.conftest import pdf_path
from tests.fixtures import make_pdfs
from tests.jobs.helpers import drain
from tests.web.helpers import SAMPLE, Html, explained, processed_document, related_pair, upload_bytes

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def pdf_upload(data: bytes, name: str = "notes.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


# --- accounts ------------------------------------------------------------------------------------


def test_signing_up_logs_the_student_in_and_opens_an_empty_library(client, django_user_model):
    """A new account lands on its library, logged in, with nothing in it."""
    response = client.post(reverse("web:signup"), {"username": "carol", "password1": "a-long-pass-phrase-7",
                                                   "password2": "a-long-pass-phrase-7"}, follow=True)
    assert response.redirect_chain == [(reverse("web:library"), 302)]
    page = Html(response.content.decode())
    assert "Welcome, carol" in page.text and "No documents yet" in page.text
    user = django_user_model.objects.get(username="carol")
    assert not user.is_staff and user.check_password("a-long-pass-phrase-7")


def test_sign_up_errors_are_shown_next_to_their_fields(client, alice):
    """A taken name and mismatched passwords are refused with the reason; no account is made."""
    response = client.post(reverse("web:signup"), {"username": "alice", "password1": "a-long-pass-phrase-7",
                                                   "password2": "another-pass-phrase-8"})
    assert response.status_code == 200
    text = Html(response.content.decode()).text
    assert "A user with that username already exists." in text
    assert "The two password fields didn’t match." in text


def test_logging_in_and_out_uses_the_web_pages(client, alice):
    """The login form leads to `next`; logging out is a POST and returns to the login page."""
    response = client.post(reverse("web:login"), {"username": "alice", "password": "alice-password-1",
                                                  "next": reverse("web:jobs")})
    assert response.status_code == 302 and response["Location"] == reverse("web:jobs")
    assert client.get(reverse("web:jobs")).status_code == 200
    assert client.get(reverse("web:logout")).status_code == 405  # a link cannot log anyone out
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("web:login")
    assert client.get(reverse("web:library")).status_code == 302


def test_a_wrong_password_is_refused_on_the_login_page(client, alice):
    response = client.post(reverse("web:login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in Html(response.content.decode()).text


def test_every_page_serves_its_own_htmx_and_stylesheet(client, alice):
    """No CDN: the scripts and styles a page loads come from this site's static files."""
    client.force_login(alice)
    page = Html(client.get(reverse("web:library")).content.decode())
    sources = [s["src"] for s in page.find("script")] + [link["href"] for link in page.find("link")]
    assert any(src.endswith("django_htmx/htmx-2.min.js") for src in sources), sources
    assert all(src.startswith("/static/") for src in sources), sources


# --- library and upload --------------------------------------------------------------------------


def test_an_upload_starts_the_pipeline_and_the_card_polls_until_it_is_done(client, alice):
    """Upload -> extraction, graph and quiz queued; the live partial polls while they run, then stops."""
    client.force_login(alice)
    response = client.post(reverse("web:library"), {"file": pdf_upload(SAMPLE.read_bytes(), "cells.pdf"),
                                                    "title": "Cell biology"}, follow=True)
    document = Document.objects.get(owner=alice)
    assert document.title == "Cell biology"
    page = Html(response.content.decode())
    assert "“Cell biology” was uploaded; its text is being read." in page.text
    steps = page.find("li", **{"data_kind": "extract_document"}) + page.find("li", **{"data_kind": "generate_graph"})
    assert [s["data-status"] for s in steps] == ["queued", "queued"]
    live = page.find("div", id=f"doc-live-{document.pk}")[0]
    assert live["hx-trigger"] == "every 1000ms" and live["hx-get"].endswith("?finished=")

    drain()
    polled = client.get(live["hx-get"], headers=HTMX)
    partial = Html(polled.content.decode())
    live = partial.find("div", id=f"doc-live-{document.pk}")[0]
    assert "hx-trigger" not in live and live["data-live"] == "0"  # finished: the poll stops itself
    assert [(s["data-kind"], s["data-status"]) for s in partial.with_attr("data-kind")] == [
        ("extract_document", "succeeded"), ("generate_graph", "succeeded"), ("create_quiz", "succeeded")]
    assert json.loads(polled["HX-Trigger"]) == {"graph-changed": {}, "pages-changed": {}}
    assert "3 pages" in partial.text


def test_the_live_partial_sends_no_events_for_steps_the_page_already_knew_finished(client, alice):
    """A poll that says both steps were finished already gets no redraw events."""
    document, _graph = processed_document(alice)
    client.force_login(alice)
    url = reverse("web:document_live", args=[document.pk]) + "?finished=extract_document,generate_graph"
    response = client.get(url, headers=HTMX)
    assert response.status_code == 200 and "HX-Trigger" not in response


def test_a_file_that_is_not_a_pdf_is_refused_with_a_clear_error(client, alice):
    """A PNG named .pdf: the form says it is not a PDF and nothing is stored."""
    client.force_login(alice)
    response = client.post(reverse("web:library"), {"file": pdf_upload(make_pdfs.png_bytes(), "photo.pdf")})
    assert response.status_code == 200
    assert "This file is not a PDF. Upload a .pdf file." in Html(response.content.decode()).text
    assert not Document.objects.exists() and not JobRun.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_its_size(client, alice, settings):
    settings.UPLOAD_MAX_BYTES = 2048
    client.force_login(alice)
    response = client.post(reverse("web:library"), {"file": pdf_upload(SAMPLE.read_bytes())})
    assert "This file is 4 KB; the limit is 2 KB." in Html(response.content.decode()).text
    assert not Document.objects.exists()


def test_an_encrypted_pdf_without_password_fails_readably_and_can_be_unlocked(client, alice, settings):
    """No password: the step says so and offers a password field; the right password reads it."""
    settings.PIPELINE_AUTO_GRAPH = False
    client.force_login(alice)
    encrypted = pdf_path("libreoffice-writer-password.pdf").read_bytes()
    client.post(reverse("web:library"), {"file": pdf_upload(encrypted, "locked.pdf")})
    drain()
    document = Document.objects.get(owner=alice)
    page = Html(client.get(reverse("web:library")).content.decode())
    assert "This PDF is password-protected: password required." in page.text
    assert page.find("input", id=f"unlock-{document.pk}")
    assert not page.find("button", aria_label="Retry text extraction")  # a retry alone would fail again

    wrong = client.post(reverse("web:document_unlock", args=[document.pk]), {"password": "nope"},
                        headers=HTMX)
    drain()
    assert wrong.status_code == 200
    document.refresh_from_db()
    assert (document.status, document.error) == ("failed", "The password for this PDF is wrong.")

    client.post(reverse("web:document_unlock", args=[document.pk]), {"password": "openpassword"})
    drain()
    document.refresh_from_db()
    assert document.status == "ready" and document.pending_password == ""
    assert JobRun.objects.filter(kind="extract_document", subject_id=document.pk, status="succeeded").count() == 1


def test_the_same_file_twice_is_one_document(client, alice):
    """Uploading a processed file again says it is already there and starts nothing."""
    client.force_login(alice)
    client.post(reverse("web:library"), {"file": pdf_upload(SAMPLE.read_bytes())})
    drain()
    response = client.post(reverse("web:library"), {"file": pdf_upload(SAMPLE.read_bytes())}, follow=True)
    assert Document.objects.filter(owner=alice).count() == 1
    assert "“notes” is already in your library." in Html(response.content.decode()).text
    assert JobRun.objects.count() == 3  # extraction, graph, quiz: once


# --- the document page -------------------------------------------------------------------------------


LABELLED = make_pdfs.text_pdf(
    [["Preface page."], ["Contents page."], ["Chapter one starts here."]],
    catalog_extra=b"/PageLabels << /Nums [0 << /S /r >> 2 << /S /D >>] >>",
)


def test_pages_show_their_printed_labels_and_which_were_read_by_ocr(client, alice, settings):
    """Printed labels (i, ii, 1) head the pages; an image-only page is marked OCR with its text."""
    settings.PIPELINE_AUTO_GRAPH = False
    labelled, _ = upload_bytes(alice, LABELLED, "labelled.pdf")
    scanned, _ = upload_bytes(alice, make_pdfs.image_only_pdf(["Mitochondria make energy"]), "scan.pdf")
    drain()
    client.force_login(alice)
    page = Html(client.get(reverse("web:document", args=[labelled.pk])).content.decode())
    assert "Page i" in page.text and "Page ii" in page.text and "Page 1 sheet 3 of the file" in page.text
    assert "Chapter one starts here." in page.text
    scan_page = Html(client.get(reverse("web:document", args=[scanned.pk])).content.decode())
    assert scan_page.find("span", class_="badge badge-ocr") and "Mitochondria" in scan_page.text


def test_a_long_document_s_pages_come_a_screen_at_a_time(client, alice, settings):
    """25 pages: 10 per screen; the third screen has pages 21-25; a label finds its screen."""
    settings.PIPELINE_AUTO_GRAPH = False
    document, _ = upload_bytes(alice, make_pdfs.numbered_pdf(25), "numbers.pdf")
    drain()
    client.force_login(alice)
    first = Html(client.get(reverse("web:document", args=[document.pk])).content.decode())
    assert "This is page 10." in first.text and "This is page 11." not in first.text
    third = Html(client.get(reverse("web:document_pages", args=[document.pk]) + "?p=3", headers=HTMX).content.decode())
    assert "Pages 21–25 of 25." in third.text and "This is page 25." in third.text
    response = client.get(reverse("web:page_by_label", args=[document.pk]) + "?label=17")
    assert response["Location"] == reverse("web:document", args=[document.pk]) + "?p=2#page-16"
    assert client.get(reverse("web:page_by_label", args=[document.pk]) + "?label=99").status_code == 404


def test_the_graph_is_an_svg_with_a_focusable_node_per_concept_and_typed_edges(client, alice):
    """Each concept is a keyboard-focusable button that loads its panel; each edge names its type."""
    document, graph = processed_document(alice)
    client.force_login(alice)
    page = Html(client.get(reverse("web:document", args=[document.pk])).content.decode())
    nodes = page.find("g", class_="node")
    assert len(nodes) == graph.concepts.count() == 15
    for node in nodes:
        assert node["tabindex"] == "0" and node["role"] == "button" and node["aria-label"]
        assert node["hx-get"] == reverse("web:concept", args=[document.pk, int(node["data-concept"])])
    edges = [e for e in page.with_attr("data-source")]
    assert edges and all(e["class"].startswith("edge edge-") for e in edges)
    assert page.find("ul", class_="legend")


def test_a_concept_panel_shows_its_description_pages_and_relations_with_quotes(client, alice):
    document, graph = processed_document(alice)
    relation = graph.relations.select_related("source", "target").first()
    client.force_login(alice)
    response = client.get(reverse("web:concept", args=[document.pk, relation.source_id]), headers=HTMX)
    panel = Html(response.content.decode())
    assert relation.source.name in panel.text and relation.source.description[:40] in panel.text
    assert relation.target.name in panel.text and relation.quote[:40] in panel.text
    assert f"p. {relation.page}" in panel.text
    for label in relation.source.pages:
        assert panel.find("a", href=reverse("web:page_by_label", args=[document.pk]) + f"?label={label}")
    # Without JavaScript the same panel is part of the document page.
    page = client.get(reverse("web:document", args=[document.pk]) + f"?concept={relation.source_id}")
    assert relation.quote[:40] in Html(page.content.decode()).text


def test_explaining_a_connection_shows_progress_then_the_explanation_with_citations(client, alice):
    """The first request starts a run (its progress polls); when it ends the poll answers with the
    explanation and its cited pages; asking again shows the stored one at once."""
    document, graph = processed_document(alice)
    source, target = related_pair(graph)
    client.force_login(alice)
    response = client.post(reverse("web:explain", args=[document.pk]), {"source": source.pk, "target": target.pk},
                           headers=HTMX)
    run = JobRun.objects.get(kind="explain_connection", owner=alice)
    progress = Html(response.content.decode()).find("div", **{"data_run": str(run.pk)})[0]
    assert progress["hx-get"] == reverse("web:explanation_progress", args=[document.pk, run.pk])
    assert "hx-trigger" in progress

    drain()
    done = Html(client.get(progress["hx-get"], headers=HTMX).content.decode())
    explanation = Explanation.objects.get(graph=graph, source=source, target=target)
    assert done.find("article", **{"data_explanation": str(explanation.pk)})
    assert explanation.citations
    for citation in explanation.citations:
        assert f"p. {citation['page']}" in done.text

    again = client.post(reverse("web:explain", args=[document.pk]), {"source": source.pk, "target": target.pk},
                        headers=HTMX)
    assert Html(again.content.decode()).find("article", **{"data_explanation": str(explanation.pk)})
    assert JobRun.objects.filter(kind="explain_connection").count() == 1


def test_explaining_a_concept_with_itself_is_refused(client, alice):
    document, graph = processed_document(alice)
    source, _ = related_pair(graph)
    client.force_login(alice)
    response = client.post(reverse("web:explain", args=[document.pk]), {"source": source.pk, "target": source.pk},
                           headers=HTMX)
    assert "Pick two different concepts." in Html(response.content.decode()).text
    assert not JobRun.objects.filter(kind="explain_connection").exists()


def test_past_explanations_are_listed_on_the_document_page(client, alice):
    document, graph = processed_document(alice)
    explanation = explained(graph, alice)
    client.force_login(alice)
    page = Html(client.get(reverse("web:document", args=[document.pk])).content.decode())
    assert page.find("a", href=reverse("web:explanation", args=[document.pk, explanation.pk]))
    shown = client.get(reverse("web:explanation", args=[document.pk, explanation.pk]), follow=True)
    assert explanation.text[:40] in Html(shown.content.decode()).text


# --- the job panel --------------------------------------------------------------------------------------


def test_the_job_panel_cancels_a_queued_run_and_its_dependents(client, alice):
    """Cancel on the queued extraction: it and the graph behind it end cancelled; the row stops polling."""
    document, run = upload_bytes(alice, SAMPLE.read_bytes())
    client.force_login(alice)
    panel = Html(client.get(reverse("web:jobs") + "?filter=active").content.decode())
    row = panel.find("tr", id=f"job-{run.pk}")[0]
    assert row["hx-trigger"] == "every 1000ms"
    response = client.post(reverse("web:job_cancel", args=[run.pk]), headers=HTMX)
    row = Html(response.content.decode()).find("tr", id=f"job-{run.pk}")[0]
    assert row["data-status"] == "cancelled" and "hx-trigger" not in row
    assert set(JobRun.objects.values_list("status", flat=True)) == {"cancelled"}
    drain()  # the cancelled jobs do nothing when a worker meets them
    assert set(JobRun.objects.values_list("status", flat=True)) == {"cancelled"}


def test_retrying_a_cancelled_run_runs_it_and_its_dependents_to_the_end(client, alice):
    document, run = upload_bytes(alice, SAMPLE.read_bytes())
    client.force_login(alice)
    client.post(reverse("web:job_cancel", args=[run.pk]))
    response = client.post(reverse("web:job_retry", args=[run.pk]), {"next": reverse("web:document", args=[document.pk])})
    assert response["Location"] == reverse("web:document", args=[document.pk])
    drain()
    assert set(JobRun.objects.values_list("status", flat=True)) == {"succeeded"}
    document.refresh_from_db()
    assert document.status == "ready"


def test_the_failed_filter_is_the_dead_letter_view_with_error_attempts_and_requeue(client, alice):
    """A blank PDF fails for good: the failed view lists it with its error and attempts; requeue
    gives it a fresh budget (and it fails again, with the same clear reason)."""
    _document, run = upload_bytes(alice, make_pdfs.blank_pdf(1), "blank.pdf")
    upload_bytes(alice, SAMPLE.read_bytes())
    drain()
    client.force_login(alice)
    page = Html(client.get(reverse("web:jobs") + "?filter=failed").content.decode())
    row_ids = [r["id"] for r in page.find("tr") if r.get("id", "").startswith("job-")]
    graph_run = JobRun.objects.get(kind="generate_graph", upstream=run)
    quiz_run = JobRun.objects.get(kind="create_quiz", upstream=graph_run)
    assert row_ids == [f"job-{quiz_run.pk}", f"job-{graph_run.pk}", f"job-{run.pk}"]  # newest first, only the failed ones
    assert "No readable text was found in this PDF" in page.text and "1/4" in page.text
    assert page.find("input", type="checkbox", value=str(run.pk))

    response = client.post(reverse("web:jobs_requeue"), {"run": [str(run.pk)]}, follow=True)
    assert "Requeued 1 job(s)." in Html(response.content.decode()).text
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("queued", 0)
    drain()
    run.refresh_from_db()
    assert run.status == "failed" and "no readable text" in run.error


def test_an_internal_error_is_shown_to_the_student_without_its_details(client, alice):
    """A bug's exception text stays for operators; the student reads a plain sentence."""
    from studyapp.web.runs import INTERNAL_ERROR, student_error

    _document, run = upload_bytes(alice, SAMPLE.read_bytes())
    JobRun.objects.filter(pk=run.pk).update(status="failed", error="unexpected error: KeyError: 'secret_path'")
    run.refresh_from_db()
    assert student_error(run) == INTERNAL_ERROR
    client.force_login(alice)
    page = client.get(reverse("web:jobs") + "?filter=failed").content.decode()
    assert INTERNAL_ERROR in page and "secret_path" not in page


def test_stage_eta_is_said_in_words():
    from studyapp.web.runs import eta_text

    assert [eta_text(v) for v in (None, 0.4, 12, 89, 150)] == [
        "", "", "about 12 s left", "about 89 s left", "about 2 min left"]


def test_the_graph_section_waits_for_the_graph_and_redraws_itself_when_it_is_built(client, alice):
    """Before the graph exists the section says it is being built and listens for graph-changed;
    the same URL then answers with the picture."""
    document, _run = upload_bytes(alice, SAMPLE.read_bytes())
    client.force_login(alice)
    page = Html(client.get(reverse("web:document", args=[document.pk])).content.decode())
    section = page.find("section", id="graph-section")[0]
    assert section["hx-trigger"] == "graph-changed from:body"
    assert "The concept graph is being built" in page.text and not page.find("svg")
    drain()
    redrawn = Html(client.get(section["hx-get"], headers=HTMX).content.decode())
    assert len(redrawn.find("g", class_="node")) == 15


def test_a_failed_explanation_says_why_and_can_be_tried_again(client, alice):
    """An explanation run that ended failed shows its error and a retry button; retrying writes it."""
    document, graph = processed_document(alice)
    source, target = related_pair(graph)
    client.force_login(alice)
    client.post(reverse("web:explain", args=[document.pk]), {"source": source.pk, "target": target.pk}, headers=HTMX)
    run = JobRun.objects.get(kind="explain_connection")
    from jobs.control import cancel_run

    cancel_run(run)  # ends it before any worker takes it: as good as failed for the page
    shown = Html(client.get(reverse("web:explanation_progress", args=[document.pk, run.pk]), headers=HTMX)
                 .content.decode())
    assert "cancelled by the user" in shown.text
    retry = shown.find("form", **{"hx_post": reverse("web:explanation_retry", args=[document.pk, run.pk])})
    assert retry
    response = client.post(retry[0]["hx-post"], headers=HTMX)
    assert Html(response.content.decode()).find("div", **{"data_run": str(run.pk)})[0]["hx-trigger"]
    drain()
    done = Html(client.get(reverse("web:explanation_progress", args=[document.pk, run.pk]), headers=HTMX)
                .content.decode())
    assert done.find("article", **{"data_explanation": str(Explanation.objects.get(graph=graph).pk)})


def test_the_pipeline_shows_runs_of_any_other_kind_on_the_document_s_things_by_their_kind(client, alice):
    """A kind the UI has no words for (here `noop` on the graph) still gets a step after the known
    ones (the quiz among them), labelled from its name; explanations stay out of the pipeline."""
    from jobs.submit import submit

    document, graph = processed_document(alice)
    explained(graph, alice)
    run = submit("noop", graph, alice, {"n": 1})
    client.force_login(alice)
    partial = Html(client.get(reverse("web:document_live", args=[document.pk]), headers=HTMX).content.decode())
    steps = partial.with_attr("data-kind")
    assert [s["data-kind"] for s in steps] == ["extract_document", "generate_graph", "create_quiz", "noop"]
    assert steps[-1]["data-run"] == str(run.pk) and "Noop" in partial.text
    drain()
    partial = Html(client.get(reverse("web:document_live", args=[document.pk]), headers=HTMX).content.decode())
    assert partial.with_attr("data-kind")[-1]["data-status"] == "succeeded"
