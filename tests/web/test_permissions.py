"""Who may see what in the web UI: another student's objects are 404 on every route; anonymous
visitors are sent to the web login (a whole-page redirect for HTMX polls); the admin keeps its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jobs.models import JobRun
from studyapp.graphs.models import Explanation
from tests.web.helpers import explained, processed_document, related_pair

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bobs_things(bob):
    """Bob's processed document, its graph, a concept, an explanation and runs of each kind."""
    document, graph = processed_document(bob)
    explanation = explained(graph, bob)
    source, target = related_pair(graph)
    extraction = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
    explain_run = JobRun.objects.get(kind="explain_connection", owner=bob)
    return {"document": document, "graph": graph, "concept": source, "other": target, "explanation": explanation,
            "extraction": extraction, "explain_run": explain_run}


def object_routes(things) -> list[tuple[str, str, dict]]:
    """(method, url, data) for every route that names a document, concept, explanation or job."""
    d = things["document"].pk
    run, explain_run = things["extraction"].pk, things["explain_run"].pk
    return [
        ("get", reverse("web:document", args=[d]), {}),
        ("get", reverse("web:document_live", args=[d]), {}),
        ("get", reverse("web:document_pages", args=[d]), {}),
        ("get", reverse("web:page_by_label", args=[d]) + "?label=1", {}),
        ("get", reverse("web:graph", args=[d]), {}),
        ("get", reverse("web:concept", args=[d, things["concept"].pk]), {}),
        ("get", reverse("web:explanation", args=[d, things["explanation"].pk]), {}),
        ("get", reverse("web:explanation_progress", args=[d, explain_run]), {}),
        ("get", reverse("web:job_row", args=[run]), {}),
        ("post", reverse("web:document_unlock", args=[d]), {"password": "x"}),
        ("post", reverse("web:explain", args=[d]), {"source": things["concept"].pk, "target": things["other"].pk}),
        ("post", reverse("web:explanation_retry", args=[d, explain_run]), {}),
        ("post", reverse("web:job_cancel", args=[run]), {}),
        ("post", reverse("web:job_retry", args=[run]), {}),
    ]


def test_every_route_answers_404_for_another_student_s_objects(client, alice, bobs_things):
    """Alice sees none of Bob's documents, pages, graph, concepts, explanations or jobs; nothing changes."""
    client.force_login(alice)
    before = {run.pk: (run.status, run.attempts) for run in JobRun.objects.all()}
    for method, url, data in object_routes(bobs_things):
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            response = getattr(client, method)(url, data, headers=headers)
            assert response.status_code == 404, (method, url, htmx, response.status_code)
    assert {run.pk: (run.status, run.attempts) for run in JobRun.objects.all()} == before
    assert Explanation.objects.count() == 1


def test_a_student_s_own_document_with_another_student_s_concept_or_run_is_404(client, alice, bob, bobs_things):
    """Mixing ids does not help: Alice's document with Bob's concept, explanation or run is not found."""
    document, _graph = processed_document(alice)
    client.force_login(alice)
    d = document.pk
    for url in (
        reverse("web:concept", args=[d, bobs_things["concept"].pk]),
        reverse("web:explanation", args=[d, bobs_things["explanation"].pk]),
        reverse("web:explanation_progress", args=[d, bobs_things["explain_run"].pk]),
    ):
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404, url
    response = client.post(reverse("web:explain", args=[d]),
                           {"source": bobs_things["concept"].pk, "target": bobs_things["other"].pk},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not JobRun.objects.filter(kind="explain_connection", owner=alice).exists()


def test_the_lists_show_only_the_student_s_own_documents_and_jobs(client, alice, bobs_things):
    """Bob's document title and runs appear neither in Alice's library nor in her job panel."""
    client.force_login(alice)
    title = bobs_things["document"].title
    assert title not in client.get(reverse("web:library")).content.decode()
    for job_filter in ("all", "active", "failed"):
        page = client.get(reverse("web:jobs") + f"?filter={job_filter}").content.decode()
        assert title not in page and str(bobs_things["extraction"].pk) not in page


def test_requeueing_another_student_s_failed_run_does_nothing(client, alice, bob):
    """The bulk requeue only touches the student's own failed runs, whatever ids are posted."""
    from tests.fixtures import make_pdfs
    from tests.jobs.helpers import drain
    from tests.web.helpers import upload_bytes

    _document, run = upload_bytes(bob, make_pdfs.blank_pdf(1), "blank.pdf")
    drain()
    run.refresh_from_db()
    assert run.status == "failed"
    client.force_login(alice)
    response = client.post(reverse("web:jobs_requeue"), {"run": [str(run.pk)]})
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("failed", 1)


def test_anonymous_visitors_are_sent_to_the_web_login(client, bobs_things):
    """Every page redirects to /login/?next=...; an HTMX poll gets HX-Redirect instead of a login form."""
    urls = [reverse("web:library"), reverse("web:jobs")] + [url for method, url, _ in object_routes(bobs_things)
                                                             if method == "get"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("web:login") + "?next="), (url, response["Location"])
        polled = client.get(url, headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/jobs/"})
        assert polled.status_code == 200 and polled["HX-Redirect"] == "/login/?next=%2Fjobs%2F", url
    for method, url, data in object_routes(bobs_things):
        if method == "post":
            response = client.post(url, data)
            assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    assert JobRun.objects.filter(status__in=JobRun.UNFINISHED).count() == 0


def test_the_admin_keeps_its_own_login(client, django_user_model):
    """/admin/ sends anonymous visitors to the admin's login page, and staff can still log in there."""
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    django_user_model.objects.create_superuser("staff", password="staff-password-1")
    response = client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "staff-password-1",
                                                         "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_missing_object_gets_the_site_s_own_not_found_page(client, alice, settings):
    """The 404 page says plainly that there is nothing here (or it is someone else's) and links home."""
    settings.DEBUG = False
    client.force_login(alice)
    response = client.get(reverse("web:document", args=[999999]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "or it belongs to someone else" in body and 'href="/"' in body
