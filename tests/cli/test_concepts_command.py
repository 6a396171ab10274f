"""manage.py concepts: one JSON line of key concepts per .txt/.pdf file, the way quality is measured."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import pytest
from django.core.management import call_command

from studyapp.ai.providers.local import LocalProvider
from studyapp.ai.schemas import ChunkInput, Segment
from studyapp.cli.management.commands.concepts import document_concepts
from studyapp.graphs.chunking import make_chunks
from tests.ai.fake_openai import FakeOpenAI
from tests.conftest import REPO

SAMPLE = REPO / "samples" / "cell-biology-notes.pdf"
ABSTRACT = (
    "A scalable approach to garbage collection in distributed object systems\n"
    "Distributed garbage collection reclaims objects that no process can reach. We present a reference "
    "listing algorithm that tolerates message loss and process crashes. Unlike reference counting, "
    "reference listing detects cycles when combined with a local tracing collector. The algorithm is "
    "evaluated on a cluster of workstations; distributed garbage collection adds less than five percent "
    "to the message traffic of typical object-oriented applications."
)


def concepts(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command("concepts", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def run_command(*args: str, **environ: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "studyapp.settings", **environ}
    return subprocess.run([sys.executable, str(REPO / "manage.py"), "concepts", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_folder_gives_one_json_line_per_file_in_sorted_order(tmp_path):
    """A .txt and a .pdf in a folder (recursively): two lines, best concepts first."""
    (tmp_path / "b").mkdir()
    shutil.copy(SAMPLE, tmp_path / "b" / "cells.pdf")
    (tmp_path / "a.txt").write_text(ABSTRACT, encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    lines = concepts(str(tmp_path))
    assert [line["path"] for line in lines] == [str(tmp_path / "a.txt"), str(tmp_path / "b" / "cells.pdf")]
    assert "distributed garbage collection" in lines[0]["concepts"]
    assert lines[1]["concepts"][0] == "cell"
    assert {"plasma membrane", "photosynthesis", "ATP"} <= set(lines[1]["concepts"])
    assert all(len(line["concepts"]) == 10 for line in lines)


def test_top_limits_the_list(tmp_path):
    (tmp_path / "a.txt").write_text(ABSTRACT, encoding="utf-8")
    [line] = concepts("--top", "3", str(tmp_path / "a.txt"))
    assert len(line["concepts"]) == 3


def test_a_short_text_gives_exactly_what_one_chunk_call_gives(tmp_path):
    """The benchmark may call the provider directly: both ways must agree."""
    (tmp_path / "abstract.txt").write_text(ABSTRACT, encoding="utf-8")
    [line] = concepts(str(tmp_path / "abstract.txt"))
    direct = LocalProvider().extract_concepts(ChunkInput(segments=[Segment(page="1", text=ABSTRACT)], max_concepts=10))
    assert line["concepts"] == [c.name for c in direct.output.concepts]


def test_a_long_document_is_chunked_and_merged():
    """More text than one chunk holds: per-chunk answers are merged, variants joined, best first."""
    # One long page: identical pages would repeat their first and last lines at the page edges,
    # which the study text leaves out as running heads.
    pages = [("1", SAMPLE_TEXT * 8)]
    assert len(make_chunks(pages)) > 1
    names = document_concepts(pages, LocalProvider(), top=8)
    assert len(names) == 8 and names[0] == "cell"
    assert len({n.lower().rstrip("s") for n in names}) == 8


def test_an_unreadable_pdf_gives_an_error_line_and_the_command_goes_on(tmp_path):
    (tmp_path / "a-broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf")
    (tmp_path / "b.txt").write_text(ABSTRACT, encoding="utf-8")
    broken, fine = concepts(str(tmp_path))
    assert "error" in broken and "concepts" not in broken and "damaged" in broken["error"]
    assert fine["concepts"]


def test_a_missing_path_exits_2_with_a_message_on_stderr(tmp_path):
    result = run_command(str(tmp_path / "nope.pdf"))
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr and result.stdout == ""


def test_a_file_of_another_kind_exits_2(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    result = run_command(str(tmp_path / "notes.docx"))
    assert result.returncode == 2 and "not a .txt or .pdf" in result.stderr


def test_it_exits_1_when_no_file_gave_concepts(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf")
    result = run_command(str(tmp_path))
    assert result.returncode == 1
    assert "error" in json.loads(result.stdout)
    assert "no file gave concepts (1 tried)" in result.stderr and "damaged" in result.stderr


def test_the_openai_provider_finds_the_mode_a_llama_cpp_server_takes(tmp_path):
    """json_schema refused with a 500: the command steps down by itself; forced, it fails with exit 1."""
    (tmp_path / "a.txt").write_text("The Krebs Cycle is part of Cellular Respiration.", encoding="utf-8")
    server = FakeOpenAI.like_llama_cpp().start()
    try:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test", "OPENAI_FOLD_SYSTEM": "1"}
        result = run_command("--provider", "openai", str(tmp_path / "a.txt"), **env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["concepts"][:2] == ["Krebs Cycle", "Cellular Respiration"]

        forced = run_command("--provider", "openai", str(tmp_path / "a.txt"), OPENAI_OUTPUT_MODE="json_schema", **env)
        assert forced.returncode == 1
        assert "Input should be 'text' or 'json_object'" in json.loads(forced.stdout)["error"]
    finally:
        server.stop()


def test_it_runs_as_a_command_without_a_database(tmp_path):
    """A real process prints plain JSON lines (the benchmark reads them)."""
    (tmp_path / "a.txt").write_text(ABSTRACT, encoding="utf-8")
    result = run_command("--top", "5", str(tmp_path / "a.txt"))
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["path"] == str(tmp_path / "a.txt") and len(line["concepts"]) == 5


SAMPLE_TEXT = """The cell is the basic unit of life. All living organisms are made of one or more cells, and every
cell arises from an existing cell by cell division. The plasma membrane is a thin layer that separates the inside of
the cell from its surroundings. Osmosis is the diffusion of water across a selectively permeable membrane. The
mitochondrion is the site of cellular respiration; it converts the energy stored in glucose into ATP. The chloroplast
is the site of photosynthesis and is found in plant cells, not in animal cells. ATP is the energy currency of the
cell. Photosynthesis is the reverse process: chloroplasts use light energy to build glucose from carbon dioxide and
water, and release oxygen. Unlike cellular respiration, photosynthesis stores energy. Mitosis is a type of cell
division that produces two identical daughter cells. Uncontrolled cell division causes cancer.
"""
