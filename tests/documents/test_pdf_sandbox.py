"""The PDF sandbox: parsing, rendering and OCR of an upload run in a child process under hard limits.

Generated bombs (tests/fixtures/pdf_bombs.py) fail with a message a student understands and never
reach OCR as if they were scans; the child's peak memory stays under its limit; the caller (a
worker's work-horse) lives on. The last test runs real forking workers.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import resource
import signal
import time

import pytest

from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.policies import POLICIES
from studyapp.documents.errors import BrokenPdf, PdfTooDemanding
from studyapp.documents.extraction import ExtractionOptions, extract_pages
from studyapp.documents.models import Document
from studyapp.documents.sandbox import SandboxLimits, sandboxed
from tests.conftest import pdf_path
from tests.fixtures.pdf_bombs import flate_content_bomb, image_bomb, nested_bomb
from tests.jobs.helpers import wait_for

LIMITS = SandboxLimits(memory_mb=512, cpu_s=60, open_files=64)
BOMBS = {
    "flate": (flate_content_bomb, "has a page whose content expands to more than 75 MB of data"),
    "image": (image_bomb, "has an image that expands to 549 MB, more than the 512 MB allowed"),
    "nested": (nested_bomb, "nests its structure too deeply to be read"),
}


def extract_sandboxed(data: bytes, limits: SandboxLimits = LIMITS, **kwargs) -> list:
    options = ExtractionOptions(sandbox=limits)
    return list(sandboxed(extract_pages, limits, data=data, options=options, **kwargs))


def children_peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


@pytest.mark.parametrize("kind", BOMBS)
def test_a_bomb_fails_with_a_plain_message_and_the_child_stays_under_its_limit(kind):
    make, reason = BOMBS[kind]
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

    with pytest.raises(PdfTooDemanding) as caught:
        extract_sandboxed(make())

    assert str(caught.value) == f"This PDF {reason}; it cannot be processed."
    # The child starts as a copy of this process; what the PDF added stays under the limit.
    assert children_peak_mb() < own_mb + LIMITS.memory_mb


def test_the_address_space_limit_holds_whatever_allocates():
    def hog(progress, **_):
        blocks = []
        while True:
            blocks.append(bytearray(64 * 1024 * 1024))
            yield len(blocks)

    with pytest.raises(PdfTooDemanding, match="expands to more than 256 MB of data"):
        list(sandboxed(hog, SandboxLimits(memory_mb=256)))


def test_the_cpu_limit_ends_a_child_that_spins():
    def spin(progress, **_):
        while True:
            pass
        yield  # a generator

    started = time.monotonic()
    with pytest.raises(PdfTooDemanding, match="needs more than 1 s of processing time"):
        list(sandboxed(spin, SandboxLimits(cpu_s=1)))
    assert time.monotonic() - started < 30


def test_a_child_that_crashes_in_c_code_is_reported_and_this_process_lives_on():
    def crash(progress, **_):
        yield 1
        os.kill(os.getpid(), signal.SIGSEGV)
        yield 2

    items = []
    with pytest.raises(PdfTooDemanding):
        for item in sandboxed(crash, LIMITS):
            items.append(item)
    assert items == [1]


def test_errors_and_progress_cross_from_the_child():
    seen = []
    with pytest.raises(BrokenPdf, match="damaged"):
        extract_sandboxed(b"%PDF-1.4\n not a pdf at all")
    pages = list(sandboxed(extract_pages, LIMITS, data=pdf_path("multicolumn.pdf").read_bytes(),
                           options=ExtractionOptions(ocr=False), progress=lambda stage, **kw: seen.append(stage)))
    assert [p.index for p in pages] == [0, 1, 2] and pages[0].text
    assert seen[0] == "reading" and seen[-1] == "extracting page 3/3"


def test_a_caller_that_stops_early_ends_the_child():
    def endless(progress, **_):
        n = 0
        while True:
            n += 1
            yield n

    generator = sandboxed(endless, LIMITS)
    assert next(generator) == 1
    generator.close()
    assert not [p for p in multiprocessing.active_children() if p.name == "pdf-sandbox"], "no child left behind"


def test_the_extraction_policies_carry_limits_that_fit_a_small_worker():
    for kind in ("extract_document", "extract_pages"):
        sandbox = POLICIES[kind].sandbox
        assert sandbox is not None and sandbox.memory_mb <= 1024
        assert sandbox.cpu_s > POLICIES[kind].time_budget_s  # the resumable budget ends an attempt first


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_forking_worker_refuses_every_bomb_and_goes_on_to_the_next_upload(alice, start_worker):
    worker = start_worker("cpu_high", "cpu_default", "cpu_low")
    bombs = [document_upload(owner=alice, upload=io.BytesIO(make()), filename=f"{kind}.pdf")[0]
             for kind, (make, _) in BOMBS.items()]
    with pdf_path("multicolumn.pdf").open("rb") as fh:
        good, _ = document_upload(owner=alice, upload=fh, filename="good.pdf")

    wait_for(lambda: not Document.objects.filter(status__in=("queued", "processing")).exists(), 120,
             "the uploads to finish")

    for document, (_, reason) in zip(bombs, BOMBS.values()):
        document.refresh_from_db()
        run = JobRun.objects.get(kind="extract_document", subject_id=document.pk)
        assert (document.status, run.status, run.attempts) == ("failed", "failed", 1)
        assert reason in run.error and "it cannot be processed" in document.error
        assert not document.pages.filter(source="ocr").exists()
    good.refresh_from_db()
    assert good.status == "ready"
    assert worker.poll() is None, "the worker survived every bomb"


def _endless_with_pid(pid_file: str):
    def produce(progress, **_):
        with open(pid_file, "w") as fh:
            fh.write(str(os.getpid()))
        n = 0
        while True:
            n += 1
            yield n
    return produce


def _hold_a_sandbox(pid_file: str) -> None:
    for _ in sandboxed(_endless_with_pid(pid_file), LIMITS):
        time.sleep(0.01)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.startswith("State:") and line.split()[1] in ("Z", "X") for line in fh)
    except FileNotFoundError:
        return True


def test_a_sandbox_child_dies_with_its_parent(tmp_path):
    """kill -9 of the process holding a sandbox (a work-horse ended by its lease, a chaos kill) must
    not leave the child behind, blocked on a pipe and holding the parent's database sessions."""
    pid_file = tmp_path / "child.pid"
    holder = multiprocessing.get_context("fork").Process(target=_hold_a_sandbox, args=(str(pid_file),))
    holder.start()
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), 10, "the sandbox child to start")
    child = int(pid_file.read_text())
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(5)
    wait_for(lambda: _gone(child), 5, f"the sandbox child {child} to end with its parent")
