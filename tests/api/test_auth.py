"""Auth and permissions through the real URL stack (Django's test client, all middleware).

The operations are read from the API's own OpenAPI schema, so a route added later (quizzes) is
covered without editing these tests, or makes them fail until its ids are known here.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from jobs.models import JobRun
from jobs.pipelines import explanation_request
from studyapp.api.api import api
from studyapp.apikeys.models import ApiKey
from studyapp.apikeys.services import api_key_create
from studyapp.graphs.models import Explanation
from studyapp.graphs.services import current_graph
from studyapp.quizzes.models import Quiz, QuizAttempt
from studyapp.quizzes.services import attempt_start
from tests.jobs.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = "c" * 32  # a CSRF secret as the web UI would read it from the csrftoken cookie


def operations() -> list[tuple[str, str, str]]:
    """(method, path template, operationId) of every operation in the schema."""
    schema = api.get_openapi_schema()
    return [(method.upper(), path, op["operationId"]) for path, methods in schema["paths"].items()
            for method, op in methods.items()]


def filled(path: str, ids: dict[str, object]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        assert name in ids, f"no id known for {{{name}}}: add one to the test's ids"
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", value, path)


def call(client: Client, method: str, path: str, **headers):
    # Writes get a body that is valid where one is needed, so that only auth or ownership can refuse them.
    body = {"POST": "{}", "DELETE": None}.get(method)
    return client.generic(method, path, data=body or "", content_type="application/json", headers=headers)


@pytest.fixture
def alices_things(processed, alice, alice_key) -> dict[str, object]:
    """One of each of alice's objects that a path can name."""
    relation = current_graph(processed).relations.first()
    explanation_request(graph=relation.graph, source=relation.source, target=relation.target, owner=alice)
    drain()
    quiz = Quiz.objects.get(document=processed, status="ready")  # the upload's own
    return {"document_id": processed.pk, "job_id": JobRun.objects.filter(owner=alice).first().pk,
            "explanation_id": Explanation.objects.get().pk, "key_id": ApiKey.objects.get(owner=alice).pk,
            "quiz_id": quiz.pk, "attempt_id": attempt_start(quiz=quiz, student=alice).pk}


def test_the_docs_and_the_schema_are_open_and_served_without_a_cdn(client):
    """GET /api/docs (Swagger UI from our own static files) and /api/openapi.json need no credentials."""
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and b"swagger-ui-bundle.js" in docs.content
    assert b"cdn." not in docs.content and b"/static/ninja/" in docs.content
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "studyapp API" and "/api/jobs/{job_id}" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"ApiKeyBearer", "ApiKeyHeader", "StudentSession"}


def test_every_operation_declares_and_enforces_credentials(client):
    """Anonymous: 401 {code: unauthorized} with WWW-Authenticate on every operation, writes included."""
    ids = {"document_id": 1, "job_id": "00000000-0000-0000-0000-000000000001", "explanation_id": 1, "key_id": 1,
           "quiz_id": 1, "attempt_id": 1}
    schema = api.get_openapi_schema()
    for method, path, operation_id in operations():
        assert schema["paths"][path][method.lower()]["security"], operation_id
        response = call(client, method, filled(path, ids))
        assert response.status_code == 401, (operation_id, response.content)
        assert response.json()["code"] == "unauthorized" and response["WWW-Authenticate"].startswith("Bearer")


def test_every_object_route_with_another_students_key_is_a_404(client, alices_things, alice_key, bob_key):
    """bob's key on each of alice's ids: 404, and nothing changes; alice's own key finds each of them."""
    routes = [(m, p, o) for m, p, o in operations() if "{" in p]
    assert {o for _, _, o in routes} >= {"document_get", "job_get", "job_cancel", "graph_regenerate", "key_revoke",
                                         "quiz_get", "quiz_submit", "attempt_get", "attempt_submit",
                                         "attempt_retry_missed"}
    before = sorted(JobRun.objects.values_list("pk", "status"))
    attempts_before = sorted(QuizAttempt.objects.values_list("pk", "finished_at"))
    for method, path, operation_id in routes:
        response = call(client, method, filled(path, alices_things), authorization=f"Bearer {bob_key}")
        assert response.status_code == 404, (operation_id, response.content)
        assert response.json()["code"] == "not_found"
    assert sorted(JobRun.objects.values_list("pk", "status")) == before
    assert sorted(QuizAttempt.objects.values_list("pk", "finished_at")) == attempts_before
    assert ApiKey.objects.get(owner__username="alice").is_active
    for method, path, operation_id in routes:
        if method == "GET":
            response = call(client, method, filled(path, alices_things), authorization=f"Bearer {alice_key}")
            assert response.status_code == 200, (operation_id, response.content)


def test_another_students_concepts_cannot_be_explained(client, processed, bob_key):
    """POST /api/explanations names concepts in its body: bob naming alice's concepts gets a 404."""
    relation = current_graph(processed).relations.first()
    response = client.post("/api/explanations", {"source_id": relation.source_id, "target_id": relation.target_id},
                           content_type="application/json", headers={"authorization": f"Bearer {bob_key}"})
    assert response.status_code == 404 and not JobRun.objects.filter(kind="explain_connection").exists()


def test_another_students_document_cannot_be_quizzed_or_reviewed(client, processed, bob_key):
    """POST /api/quizzes and /api/reviews name a document in their body: bob naming alice's gets a 404."""
    for path in ("/api/quizzes", "/api/reviews"):
        response = client.post(path, {"document_id": processed.pk}, content_type="application/json",
                               headers={"authorization": f"Bearer {bob_key}"})
        assert response.status_code == 404 and response.json()["code"] == "not_found", path
    response = client.get(f"/api/reviews?document_id={processed.pk}", headers={"authorization": f"Bearer {bob_key}"})
    assert response.status_code == 404
    assert Quiz.objects.count() == 1 and not QuizAttempt.objects.exists()


def test_lists_show_only_my_own_things(client, processed, alice, bob_key):
    """bob sees no documents, jobs, quizzes, attempts or reviews of alice's."""
    attempt_start(quiz=Quiz.objects.get(), student=alice)
    for path in ("/api/documents", "/api/jobs", "/api/quizzes", "/api/attempts", "/api/reviews"):
        body = client.get(path, headers={"authorization": f"Bearer {bob_key}"}).json()
        assert body == {"items": [], "count": 0}, path


def test_a_key_works_in_either_header_and_only_while_it_is_valid(client, alice, alice_key):
    """Bearer and X-API-Key both work; a wrong, malformed, revoked key or an inactive student's key is a 401."""
    assert client.get("/api/keys", headers={"authorization": f"Bearer {alice_key}"}).status_code == 200
    assert client.get("/api/keys", headers={"x-api-key": alice_key}).status_code == 200
    for wrong in (alice_key[:-1] + ("A" if alice_key[-1] != "A" else "B"), "not-a-key", "sa_", "Basic abc"):
        assert client.get("/api/keys", headers={"authorization": f"Bearer {wrong}"}).status_code == 401, wrong
        assert client.get("/api/keys", headers={"x-api-key": wrong}).status_code == 401, wrong
    other, other_secret = api_key_create(owner=alice, name="second")
    client.delete(f"/api/keys/{other.pk}", headers={"authorization": f"Bearer {alice_key}"})
    assert client.get("/api/keys", headers={"x-api-key": other_secret}).status_code == 401
    alice.is_active = False
    alice.save()
    assert client.get("/api/keys", headers={"x-api-key": alice_key}).status_code == 401


def test_a_key_records_when_it_was_last_used(client, alice, alice_key):
    """last_used_at is set on first use (and refreshed at most once a minute)."""
    assert ApiKey.objects.get().last_used_at is None
    client.get("/api/documents", headers={"x-api-key": alice_key})
    used = ApiKey.objects.get().last_used_at
    assert used is not None
    client.get("/api/documents", headers={"x-api-key": alice_key})
    assert ApiKey.objects.get().last_used_at == used


def test_the_web_uis_session_reads_freely_and_writes_only_with_the_csrf_token(alice):
    """Session auth: GET works; a POST without X-CSRFToken is a 403 csrf_failed; with it, it goes through."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    browser.cookies["csrftoken"] = CSRF
    assert browser.get("/api/documents").status_code == 200
    refused = browser.post("/api/keys", {"name": "laptop"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    created = browser.post("/api/keys", {"name": "laptop"}, content_type="application/json",
                           headers={"x-csrftoken": CSRF})
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["prefix"]) and ApiKey.objects.get().name == "laptop"
    assert "key_hash" not in body and body["key"] not in ApiKey.objects.get().key_hash
    fresh = Client().get("/api/keys", headers={"authorization": f"Bearer {body['key']}"})
    assert fresh.status_code == 200 and [k["name"] for k in fresh.json()] == ["laptop"]


def test_an_anonymous_write_is_a_401_not_a_csrf_403():
    """Without a session or key, the CSRF check is not what answers."""
    response = Client(enforce_csrf_checks=True).post("/api/keys", {"name": "x"}, content_type="application/json")
    assert response.status_code == 401


def test_keys_can_only_be_created_from_the_signed_in_web_ui(client, alice_key):
    """With an API key, POST /api/keys is a 403 that says why."""
    response = client.post("/api/keys", {"name": "x"}, content_type="application/json",
                           headers={"authorization": f"Bearer {alice_key}"})
    assert response.status_code == 403 and "web UI" in response.json()["message"]
    assert ApiKey.objects.count() == 1
