"""The whole flow over real HTTP, as a student's script drives it: samples/api_client.py against the
live server (a real socket), with a real forking worker process doing the jobs.

upload -> poll the jobs -> graph -> explanation -> quiz -> attempt -> graded result.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studyapp.apikeys.services import api_key_create
from studyapp.graphs.models import Explanation
from studyapp.quizzes.models import QuizAttempt
from tests.conftest import REPO, pdf_path

pytestmark = pytest.mark.django_db(transaction=True)


def run_client(live_server, key: str, pdf, *extra: str) -> tuple[int, list[dict]]:
    result = subprocess.run(
        [sys.executable, str(REPO / "samples" / "api_client.py"), "--url", live_server.url, "--key", key, str(pdf),
         *extra],
        capture_output=True, text=True, timeout=240,
    )
    steps = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.stderr == "" or result.returncode == 0, result.stderr
    return result.returncode, steps


@pytest.mark.slow  # a worker process
def test_a_script_uploads_follows_its_jobs_reads_the_graph_gets_an_explanation_and_a_graded_quiz(
        live_server, start_worker, alice, settings):
    """Exit 0; live progress seen while polling; the graph, the cited explanation and the graded quiz attempt
    are alice's."""
    settings.AI_PROVIDER = "local"
    start_worker()
    key = api_key_create(owner=alice, name="flow test")[1]
    code, steps = run_client(live_server, key, pdf_path("pdflatex-4-pages.pdf"))
    assert code == 0, steps
    by_step = {}
    for step in steps:
        by_step.setdefault(step["step"], []).append(step)
    assert by_step["uploaded"][0]["jobs"] == ["extract_document", "generate_graph", "create_quiz"]
    progress = by_step["progress"]
    assert {"extract_document", "generate_graph", "create_quiz", "explain_connection"} == {p["job"] for p in progress}
    assert all(p["status"] == "succeeded" for p in progress if p["stage"] == "done")
    graph = by_step["graph"][0]
    assert graph["concepts"] > 5 and graph["relations"] > 0
    explanation = by_step["explanation"][0]
    stored = Explanation.objects.get(pk=explanation["explanation_id"])
    assert stored.graph.document.owner == alice and stored.text == explanation["text"]
    labels = set(stored.graph.document.pages.values_list("label", flat=True))
    assert explanation["pages"] and set(explanation["pages"]) <= labels
    quiz, result = by_step["quiz"][0], by_step["result"][0]
    attempt = QuizAttempt.objects.get(pk=result["attempt_id"])
    assert attempt.student == alice and attempt.quiz_id == quiz["quiz_id"] and attempt.is_finished
    assert quiz["questions"] == result["total"] == len(result["feedback"]) == attempt.total > 0
    assert result["correct"] == attempt.correct == sum(f["correct"] for f in result["feedback"])
    for feedback in result["feedback"]:
        answer = attempt.answers.select_related("question").get(question_id=feedback["question_id"])
        assert (feedback["correct"], feedback["correct_answer"]) == (answer.correct, answer.question.answer)
        assert feedback["page"] == answer.question.page and feedback["page"] in labels
    assert by_step["done"][0]["document_id"] == stored.graph.document_id


def test_a_script_with_a_revoked_key_is_refused(live_server, alice):
    """The same script with a revoked key: exit 2 with the API's 401 message."""
    from studyapp.apikeys.services import api_key_revoke

    key, secret = api_key_create(owner=alice, name="old")
    api_key_revoke(owner=alice, key_id=key.pk)
    code, steps = run_client(live_server, secret, pdf_path("pdflatex-4-pages.pdf"))
    assert code == 2 and steps[-1]["step"] == "error" and "HTTP 401: unauthorized" in steps[-1]["message"]
