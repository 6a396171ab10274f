"""The API's handlers through ninja's TestClient: real services, real Redis, an in-process worker."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.models import JobRun
from studyapp.documents.models import Document
from studyapp.graphs.models import ConceptGraph, Explanation
from studyapp.graphs.services import current_graph
from tests.api.conftest import bearer, upload
from tests.conftest import pdf_path
from tests.fixtures.make_pdfs import text_pdf
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)


def pdf_file(name: str = "pdflatex-4-pages.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_path(name).read_bytes(), content_type="application/pdf")


# --- documents -------------------------------------------------------------------------------------------


def test_it_uploads_a_pdf_and_starts_its_pipeline(client_api, alice, alice_key):
    """201 with the document and its queued extraction, graph and quiz jobs; the same file again is the same document."""
    response = client_api.post("/documents", data={"title": "Lecture 4"}, FILES={"file": pdf_file()},
                               headers=bearer(alice_key))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Lecture 4" and body["status"] == "queued" and body["graph_id"] is None
    assert [job["kind"] for job in body["jobs"]] == ["extract_document", "generate_graph", "create_quiz"]
    assert body["jobs"][1]["upstream_id"] == body["jobs"][0]["id"]
    assert body["jobs"][2]["upstream_id"] == body["jobs"][1]["id"]
    assert all(job["status"] == "queued" for job in body["jobs"])
    assert all(job["subject"] == {"type": "document", "id": body["id"]} for job in body["jobs"][:2])
    assert body["jobs"][2]["subject"]["type"] == "quiz"
    again = client_api.post("/documents", FILES={"file": pdf_file()}, headers=bearer(alice_key))
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Document.objects.filter(owner=alice).count() == 1


def test_a_title_sent_twice_is_a_validation_error_and_nothing_is_stored(client_api, alice, alice_key):
    """Django's form parser would keep the last title silently; schemathesis sent an array and got 201."""
    response = client_api.post("/documents", data={"title": ["One", "Two"]}, FILES={"file": pdf_file()},
                               headers=bearer(alice_key))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error" and "form.title" in response.json()["message"]
    assert not Document.objects.exists()


def test_an_uploaded_document_reports_pages_graph_and_finished_jobs(client_api, alice_key):
    """After the jobs ran: ready, page count, the current graph's id, all three jobs succeeded at 100 %."""
    created = client_api.post("/documents", FILES={"file": pdf_file()}, headers=bearer(alice_key)).json()
    drain()
    body = client_api.get(f"/documents/{created['id']}", headers=bearer(alice_key)).json()
    assert (body["status"], body["page_count"], body["error"]) == ("ready", 4, "")
    assert body["graph_id"] == ConceptGraph.objects.get(document_id=created["id"]).pk
    assert [(j["kind"], j["status"], j["percent"], j["stage"]) for j in body["jobs"]] == [
        ("extract_document", "succeeded", 100.0, "done"), ("generate_graph", "succeeded", 100.0, "done"),
        ("create_quiz", "succeeded", 100.0, "done")]


def test_a_password_protected_pdf_fails_clearly_and_opens_with_its_password(client_api, alice_key):
    """Without the password the document fails with a readable error; uploading it again with it succeeds."""
    name = "libreoffice-writer-password.pdf"
    created = client_api.post("/documents", FILES={"file": pdf_file(name)}, headers=bearer(alice_key)).json()
    drain()
    failed = client_api.get(f"/documents/{created['id']}", headers=bearer(alice_key)).json()
    assert failed["status"] == "failed" and "password required" in failed["error"]
    assert failed["jobs"][0]["error"] == failed["error"]
    again = client_api.post("/documents", data={"password": "openpassword"}, FILES={"file": pdf_file(name)},
                            headers=bearer(alice_key))
    assert again.status_code == 201 and again.json()["status"] == "queued"
    drain()
    assert client_api.get(f"/documents/{created['id']}", headers=bearer(alice_key)).json()["status"] == "ready"


def test_a_file_that_is_not_a_pdf_is_a_400_with_a_clear_message(client_api, alice_key):
    """Checked by its bytes: {code: not_a_pdf, message}."""
    fake = SimpleUploadedFile("notes.pdf", b"just some text, not a PDF", content_type="application/pdf")
    response = client_api.post("/documents", FILES={"file": fake}, headers=bearer(alice_key))
    assert response.status_code == 400
    assert response.json() == {"code": "not_a_pdf", "message": "This file is not a PDF."}


def test_the_schema_says_the_upload_must_be_a_pdf():
    """A generated client learns what the server checks: the part's type, the rule, the 400."""
    from studyapp.api.api import api

    operation = api.get_openapi_schema()["paths"]["/api/documents"]["post"]
    multipart = operation["requestBody"]["content"]["multipart/form-data"]
    assert multipart["encoding"]["file"]["contentType"] == "application/pdf"
    file_part = multipart["schema"]["properties"]["file"]
    assert file_part["contentMediaType"] == "application/pdf" and "not_a_pdf" in file_part["description"]
    assert "not_a_pdf" in operation["responses"][400]["description"]


def test_a_file_over_the_size_cap_is_a_413(client_api, alice_key, settings):
    """FileTooLarge becomes 413 with the sizes in the message."""
    settings.UPLOAD_MAX_BYTES = 2048
    response = client_api.post("/documents", FILES={"file": pdf_file()}, headers=bearer(alice_key))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large" and "the limit is" in response.json()["message"]


def test_a_missing_file_is_a_validation_error_in_the_same_shape(client_api, alice_key):
    """Request validation: 400 {code: validation_error, message, details: [{location, message}]}."""
    response = client_api.post("/documents", data={"title": "no file"}, headers=bearer(alice_key))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "file" in body["message"]
    assert body["details"] and body["details"][0]["location"].endswith("file")


def test_it_lists_my_documents_newest_first_in_pages(client_api, alice, bob, alice_key):
    """Paginated {items, count}; page_size bounds; other students' documents never appear."""
    for n in range(3):
        upload_bytes(alice, n)
    upload_bytes(bob, 9)
    first = client_api.get("/documents?page_size=2", headers=bearer(alice_key)).json()
    second = client_api.get("/documents?page_size=2&page=2", headers=bearer(alice_key)).json()
    assert first["count"] == second["count"] == 3
    titles = [d["title"] for d in first["items"] + second["items"]]
    assert titles == ["doc 2", "doc 1", "doc 0"]
    too_big = client_api.get("/documents?page_size=1000", headers=bearer(alice_key))
    assert too_big.status_code == 400 and too_big.json()["code"] == "validation_error"


def upload_bytes(owner, n: int) -> Document:
    from io import BytesIO

    from jobs.pipelines import document_upload

    document, _ = document_upload(owner=owner, upload=BytesIO(text_pdf([[f"Document number {n}."]])),
                                  filename=f"doc {n}.pdf")
    return document


def test_it_returns_the_pages_with_their_printed_labels(client_api, alice, alice_key):
    """Pages in file order with label, text and source, paginated."""
    document = upload(alice, "pdflatex-4-pages.pdf")
    drain()
    body = client_api.get(f"/documents/{document.pk}/pages?page_size=3", headers=bearer(alice_key)).json()
    assert body["count"] == 4 and [p["index"] for p in body["items"]] == [0, 1, 2]
    page = body["items"][0]
    assert page["label"] == "1" and page["source"] == "text" and len(page["text"]) > 100


def test_deleting_a_document_cancels_its_unfinished_jobs_and_removes_it(client_api, alice, alice_key):
    """204; the queued extraction, graph and quiz jobs end cancelled (kept in the job list); the file is gone."""
    document = upload(alice)
    stored = document.file.path
    response = client_api.delete(f"/documents/{document.pk}", headers=bearer(alice_key))
    assert response.status_code == 204
    assert not Document.objects.filter(pk=document.pk).exists()
    runs = JobRun.objects.filter(owner=alice)
    assert sorted(runs.values_list("status", flat=True)) == ["cancelled", "cancelled", "cancelled"]
    import os

    assert not os.path.exists(stored)
    drain()  # the cancelled RQ jobs do nothing
    assert client_api.get(f"/documents/{document.pk}", headers=bearer(alice_key)).status_code == 404
    jobs = client_api.get("/jobs", headers=bearer(alice_key)).json()
    assert jobs["count"] == 3 and {j["status"] for j in jobs["items"]} == {"cancelled"}


# --- graphs and explanations -------------------------------------------------------------------------------


def test_it_returns_the_graph_with_concepts_relations_and_evidence(client_api, processed, alice_key):
    """Every relation joins two listed concepts and carries its page and verbatim quote."""
    response = client_api.get(f"/documents/{processed.pk}/graph", headers=bearer(alice_key))
    assert response.status_code == 200
    graph = response.json()
    assert graph["document_id"] == processed.pk and graph["status"] == "ready" and graph["provider"] == "local"
    concept_ids = {c["id"] for c in graph["concepts"]}
    assert len(concept_ids) == graph["stats"]["concepts"] > 5
    assert graph["relations"] and len(graph["relations"]) == graph["stats"]["relations"]
    pages = set(processed.pages.values_list("label", flat=True))
    for relation in graph["relations"]:
        assert {relation["source_id"], relation["target_id"]} <= concept_ids
        assert relation["evidence"]["page"] in pages and relation["evidence"]["quote"]


def test_a_document_without_a_ready_graph_answers_404_with_a_reason(client_api, alice, alice_key):
    """While the graph is being built: 404 that says so."""
    document = upload(alice)
    response = client_api.get(f"/documents/{document.pk}/graph", headers=bearer(alice_key))
    assert response.status_code == 404 and "no concept graph yet" in response.json()["message"]


def test_regenerating_returns_the_job_and_keeps_the_old_graph_until_the_new_one_is_ready(
        client_api, processed, alice_key):
    """202 with a generate_graph job for the chosen model; asked twice, the same job; then the new graph serves."""
    old = current_graph(processed)
    url = f"/documents/{processed.pk}/graph/regenerate"
    first = client_api.post(url, json={"provider": "local", "model": "local-2"}, headers=bearer(alice_key))
    assert first.status_code == 202
    job = first.json()
    assert job["kind"] == "generate_graph" and job["status"] == "queued" and job["upstream_id"] is None
    assert client_api.post(url, json={"provider": "local", "model": "local-2"}, headers=bearer(alice_key)).json()["id"] \
        == job["id"]
    assert client_api.get(f"/documents/{processed.pk}/graph", headers=bearer(alice_key)).json()["id"] == old.pk
    drain()
    graph = client_api.get(f"/documents/{processed.pk}/graph", headers=bearer(alice_key)).json()
    assert graph["id"] != old.pk and graph["model"] == "local-2"


def test_regenerating_refuses_an_unknown_provider_and_a_failed_document(client_api, alice, alice_key):
    """400 validation for a provider that does not exist; 409 when the document has no text."""
    document = upload(alice, "libreoffice-writer-password.pdf")
    drain()
    url = f"/documents/{document.pk}/graph/regenerate"
    bad = client_api.post(url, json={"provider": "skynet"}, headers=bearer(alice_key))
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"
    conflict = client_api.post(url, json={}, headers=bearer(alice_key))
    assert conflict.status_code == 409 and conflict.json()["code"] == "conflict"


def test_an_explanation_is_a_job_first_and_then_the_stored_text(client_api, processed, alice_key):
    """202 pending with a high-priority job; the same request again is the same job; after it ran, 200 ready."""
    relation = current_graph(processed).relations.first()
    body = {"source_id": relation.source_id, "target_id": relation.target_id}
    pending = client_api.post("/explanations", json=body, headers=bearer(alice_key))
    assert pending.status_code == 202
    job = pending.json()["job"]
    assert pending.json()["status"] == "pending" and job["kind"] == "explain_connection"
    assert job["subject"] == {"type": "graph", "id": relation.graph_id}
    assert client_api.post("/explanations", json=body, headers=bearer(alice_key)).json()["job"]["id"] == job["id"]
    drain()
    assert client_api.get(f"/jobs/{job['id']}", headers=bearer(alice_key)).json()["status"] == "succeeded"
    ready = client_api.post("/explanations", json=body, headers=bearer(alice_key))
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["job"] is None
    explanation = ready.json()["explanation"]
    assert explanation["source"]["id"] == relation.source_id and explanation["text"]
    labels = set(processed.pages.values_list("label", flat=True))
    assert explanation["citations"] and all(c["page"] in labels for c in explanation["citations"])
    fetched = client_api.get(f"/explanations/{explanation['id']}", headers=bearer(alice_key))
    assert fetched.status_code == 200 and fetched.json() == explanation
    assert Explanation.objects.count() == 1


def test_an_explanation_needs_two_different_concepts_of_one_graph(client_api, processed, alice_key):
    """The same concept twice or an unknown concept: 400 and 404, before any job is queued."""
    concept = current_graph(processed).concepts.first()
    same = client_api.post("/explanations", json={"source_id": concept.pk, "target_id": concept.pk},
                           headers=bearer(alice_key))
    assert same.status_code == 400 and "two different concepts" in same.json()["message"]
    unknown = client_api.post("/explanations", json={"source_id": concept.pk, "target_id": 10**9},
                              headers=bearer(alice_key))
    assert unknown.status_code == 404
    assert not JobRun.objects.filter(kind="explain_connection").exists()


# --- jobs ----------------------------------------------------------------------------------------------------


def test_a_running_job_reports_its_live_progress_from_job_meta(client_api, alice, alice_key):
    """GET /jobs/{id} of a running run shows job.meta's stage, counts and eta, fresher than the row."""
    from jobs.connection import get_redis
    from jobs.progress import META_KEY
    from rq.job import Job

    document = upload(alice)
    run = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    JobRun.objects.filter(pk=run.pk).update(status="running", stage="reading", percent=0)
    job = Job.fetch(str(run.pk), connection=get_redis(run.queue))
    job.meta[META_KEY] = {"stage": "extracting page 3/4", "percent": 75.0, "message": "", "done": 3, "total": 4,
                          "eta_s": 1.5}
    job.save_meta()
    body = client_api.get(f"/jobs/{run.pk}", headers=bearer(alice_key)).json()
    assert (body["status"], body["stage"], body["percent"], body["done"], body["total"], body["eta_s"]) == (
        "running", "extracting page 3/4", 75.0, 3, 4, 1.5)
    assert body["finished"] is False and body["attempts"] == 0


def test_it_lists_my_jobs_filtered_by_status_and_kind(client_api, alice, bob, alice_key):
    """?status= and ?kind= filter; only my own jobs; an unknown status or kind is a validation error."""
    upload(alice)
    upload(bob)
    everything = client_api.get("/jobs", headers=bearer(alice_key)).json()
    assert everything["count"] == 3  # extract -> graph -> quiz
    graphs = client_api.get("/jobs?kind=generate_graph", headers=bearer(alice_key)).json()
    assert [j["kind"] for j in graphs["items"]] == ["generate_graph"]
    drain()
    succeeded = client_api.get("/jobs?status=succeeded&kind=extract_document", headers=bearer(alice_key)).json()
    assert succeeded["count"] == 1
    assert client_api.get("/jobs?status=queued", headers=bearer(alice_key)).json()["count"] == 0
    assert client_api.get("/jobs?status=exploded", headers=bearer(alice_key)).status_code == 400
    misspelt = client_api.get("/jobs?kind=generate_grahp", headers=bearer(alice_key))
    assert misspelt.status_code == 400 and misspelt.json()["code"] == "validation_error"


def test_cancelling_a_queued_job_cancels_the_jobs_waiting_for_it_and_a_second_cancel_is_409(
        client_api, alice, alice_key):
    """Cancel extraction: it and the graph job behind it end cancelled; cancelling again is a conflict."""
    document = upload(alice)
    extraction = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    response = client_api.post(f"/jobs/{extraction.pk}/cancel", headers=bearer(alice_key))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert JobRun.objects.get(kind="generate_graph").status == "cancelled"
    again = client_api.post(f"/jobs/{extraction.pk}/cancel", headers=bearer(alice_key))
    assert again.status_code == 409 and "already finished" in again.json()["message"]


def test_retrying_a_cancelled_job_runs_it_and_retrying_a_succeeded_one_is_409(client_api, alice, alice_key):
    """202 queued (with its downstream graph job); once done, retrying again is a conflict."""
    document = upload(alice)
    extraction = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    client_api.post(f"/jobs/{extraction.pk}/cancel", headers=bearer(alice_key))
    retried = client_api.post(f"/jobs/{extraction.pk}/retry", headers=bearer(alice_key))
    assert retried.status_code == 202 and retried.json()["status"] == "queued"
    drain()
    assert set(JobRun.objects.values_list("status", flat=True)) == {"succeeded"}
    conflict = client_api.post(f"/jobs/{extraction.pk}/retry", headers=bearer(alice_key))
    assert conflict.status_code == 409 and "Only failed or cancelled" in conflict.json()["message"]


def test_an_unknown_or_malformed_job_id_is_a_404(client_api, alice_key):
    """A well-formed unknown uuid and a string that is no uuid at all: both 404 in the error shape."""
    for job_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        response = client_api.get(f"/jobs/{job_id}", headers=bearer(alice_key))
        assert response.status_code == 404 and response.json()["code"] == "not_found", job_id
    assert client_api.get("/documents/99999999999999999999999", headers=bearer(alice_key)).status_code == 404


# --- keys and limits -------------------------------------------------------------------------------------------


def test_keys_are_listed_without_their_secret_and_revoked_at_once(client_api, alice, alice_key):
    """The list shows name and prefix only; after DELETE the key no longer authenticates (401)."""
    listed = client_api.get("/keys", headers=bearer(alice_key)).json()
    assert [(k["name"], k["prefix"]) for k in listed] == [("alice's script", alice_key[:11])]
    assert "key" not in listed[0] and alice_key not in str(listed)
    response = client_api.delete(f"/keys/{listed[0]['id']}", headers=bearer(alice_key))
    assert response.status_code == 204
    assert client_api.get("/keys", headers=bearer(alice_key)).status_code == 401


def test_a_key_cannot_create_keys(client_api, alice_key):
    """POST /keys with an API key: 403 (only the signed-in web UI can)."""
    response = client_api.post("/keys", json={"name": "another"}, headers=bearer(alice_key))
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_writes_over_the_rate_limit_are_429_with_retry_after_and_reads_are_not_limited(
        client_api, alice, alice_key, settings):
    """Three writes a minute: the fourth is 429 with Retry-After; GETs still answer."""
    settings.API_WRITE_RATE = "3/minute"
    document = upload(alice)
    run = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    statuses = [client_api.post(f"/jobs/{run.pk}/retry", headers=bearer(alice_key)).status_code for _ in range(4)]
    assert statuses == [409, 409, 409, 429]
    limited = client_api.post(f"/jobs/{run.pk}/retry", headers=bearer(alice_key))
    assert limited.json()["code"] == "rate_limited" and 1 <= int(limited["Retry-After"]) <= 60
    assert all(client_api.get(f"/jobs/{run.pk}", headers=bearer(alice_key)).status_code == 200 for _ in range(5))


def test_a_body_that_is_not_a_json_object_is_refused(client_api, alice_key):
    """Malformed JSON, a JSON list, an unknown field: each a 400 in the error shape, fields named plainly."""
    malformed = client_api.post("/explanations", data="{not json", headers={**bearer(alice_key),
                                                                              "Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "bad_request"
    listed = client_api.post("/explanations", json=[1, 2], headers=bearer(alice_key))
    assert listed.status_code == 400 and listed.json()["code"] == "validation_error"
    extra = client_api.post("/explanations", json={"source_id": 1, "target_id": 2, "colour": "red"},
                            headers=bearer(alice_key))
    assert extra.status_code == 400 and extra.json()["details"][0]["location"] == "body.colour"


def test_an_unknown_api_route_is_a_json_404(client, alice_key):
    """Through the URL stack: /api/<anything else> answers in the API's error shape."""
    response = client.get("/api/quizzez", headers=bearer(alice_key))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
