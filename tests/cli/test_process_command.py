"""manage.py process, run as a user would: a subprocess against the test DB and Redis."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studyapp.cli.progressbar import render_bar
from tests.conftest import REPO, pdf_path

pytestmark = pytest.mark.django_db(transaction=True)


def process(worker_env, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "manage.py"), "process", *args], env=worker_env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def test_it_processes_a_pdf_with_its_own_burst_worker_and_prints_json(worker_env):
    """No worker is running: the command runs one itself and reports the outcome as one JSON object."""
    result = process(worker_env, str(pdf_path("pdflatex-4-pages.pdf")), "--json")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "ready" and outcome["pages"] == 4
    assert outcome["ocr_pages"] == 0 and outcome["empty_pages"] == 0 and outcome["chars"] > 1000
    assert outcome["error"] is None
    assert outcome["jobs"] == [{"kind": "extract_document", "status": "succeeded", "attempts": 1, "error": None},
                               {"kind": "generate_graph", "status": "succeeded", "attempts": 1, "error": None},
                               {"kind": "create_quiz", "status": "succeeded", "attempts": 1, "error": None}]


def test_it_exits_1_with_a_clear_error_for_an_encrypted_pdf_and_0_with_the_password(worker_env):
    """Password required without one; the password given on the command line is used and not printed."""
    failed = process(worker_env, str(pdf_path("libreoffice-writer-password.pdf")), "--json")
    assert failed.returncode == 1
    outcome = json.loads(failed.stdout)
    assert outcome["status"] == "failed" and "password required" in outcome["error"]
    assert [j["status"] for j in outcome["jobs"]] == ["failed", "failed", "failed"]
    assert outcome["jobs"][1]["error"] == "extraction failed: This PDF is password-protected: password required."
    assert outcome["jobs"][2]["error"] == ("graph generation failed: extraction failed: "
                                           "This PDF is password-protected: password required.")
    # With the password the text is read; it is Lorem ipsum, Latin, which the local provider does
    # not write study material in: the graph says so in one sentence.
    opened = process(worker_env, str(pdf_path("libreoffice-writer-password.pdf")), "--password", "openpassword",
                     "--json")
    jobs = json.loads(opened.stdout)["jobs"]
    assert [(j["kind"], j["status"]) for j in jobs] == [
        ("extract_document", "succeeded"), ("generate_graph", "failed"), ("create_quiz", "failed")]
    assert jobs[1]["error"].endswith("in English and German; this document is in Latin.")
    assert "openpassword" not in opened.stdout + opened.stderr


def test_it_exits_1_for_a_broken_pdf_and_a_file_that_is_not_a_pdf(worker_env, tmp_path):
    """Broken PDFs fail in the job; non-PDF bytes are refused at upload; both say why."""
    broken = process(worker_env, str(pdf_path("unreadablemetadata.pdf")), "--json")
    assert broken.returncode == 1 and "damaged" in json.loads(broken.stdout)["error"]
    fake = tmp_path / "fake.pdf"
    fake.write_text("just some text")
    refused = process(worker_env, str(fake), "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout) | {} == {
        "document_id": None, "status": "failed", "pages": 0, "ocr_pages": 0, "empty_pages": 0, "chars": 0,
        "error": "This file is not a PDF.", "jobs": []}


def test_it_exits_2_on_usage_errors(worker_env, tmp_path):
    """A missing file or an unknown option is a usage error."""
    missing = process(worker_env, str(tmp_path / "nope.pdf"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    unknown = process(worker_env, str(pdf_path("pdflatex-4-pages.pdf")), "--bogus")
    assert unknown.returncode == 2


def test_it_exits_1_when_redis_is_unreachable(worker_env):
    """A clear message names the Redis URL."""
    env = {**worker_env, "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = process(env, str(pdf_path("pdflatex-4-pages.pdf")))
    assert result.returncode == 1 and "cannot reach Redis at redis://127.0.0.1:1/0" in result.stderr


def test_the_progress_bar_shows_stage_percent_and_eta():
    """One line: kind, bar, percent, status, stage and time left."""
    line = render_bar("extract_document", {"percent": 50.0, "status": "running", "stage": "extracting page 3/6",
                                           "eta_s": 4.2, "finished": False}, width=120)
    assert "[############------------]" in line and " 50.0%" in line
    assert "extracting page 3/6" in line and "~4s left" in line
