"""Extraction overhead: a PDF through our upload + extraction job vs a bare pypdf loop.

    .venv/bin/python bench/extract.py [PDF] [--repeat R] [--profile]
    .venv/bin/python bench/extract.py --fanout [PDF] [--repeat R] [--chunks 100,150] [--pages 600]

--fanout (issue 6: big documents fan out): a 600-page PDF (default: the pages of
      tests/fixtures/pdfs/GeoTopo-komprimiert.pdf, real LaTeX lecture notes, repeated to 600) through
      document_upload and real forking `manage.py rqworker --with-scheduler` processes, upload until
      the extraction run succeeded: 2 workers with fan-out vs 1 worker with the same fan-out
      settings, and vs 1 worker extracting in one job (the code before fan-out). Workers are started
      and registered before the clock starts and stopped after; the CPU column is that of the
      workers and their work-horses (getrusage of the reaped children).

ours: jobs.pipelines.document_upload (stores the file, creates the Document, submits
      extract_document; PIPELINE_AUTO_GRAPH=0 so no graph job follows) in autocommit mode, then one
      jobs.worker.SimpleWorker burst run on the extraction queue, in this process: run_job -> document_extract -> extract_pages, with the per-page DocumentPage
      INSERTs, job.meta progress writes and JobRun progress rows. settings.OCR_ENABLED is honoured.
bare: `for page in PdfReader(path).pages: page.extract_text()` over the same file.

Pages/s for both, ratio ours/bare (target >= 0.95), end to end (upload + job) and for the job
alone; the worker's run is timed without RQ's worker teardown (an intermittent 1 s pubsub-join
stall at the end of a burst run, printed in its own column; see _common.burst). Sides alternate across repeats; medians are reported. Every repeat of ours starts from an
empty database and Redis (Document, pages, runs and stored files deleted, untimed), so it really
extracts. The bare loop has no OCR: benchmark a PDF with a text layer on every page (the default),
otherwise the two sides do different work; the script prints how many pages went through OCR.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    REPO,
    Timers,
    bench_environment,
    burst,
    load_average,
    machine_lines,
    median,
    site_packages,
    verdict,
)

DEFAULT_PDF = REPO / "tests" / "fixtures" / "pdfs" / "GeoTopo-komprimiert.pdf"


@dataclass
class Result:
    pages: int
    upload_s: float  # ours only: document_upload (store file, Document, JobRun, enqueue)
    work_s: float  # ours: the worker's burst run; bare: PdfReader + extract_text loop
    cpu_s: float
    teardown_s: float = 0.0  # ours: RQ worker teardown, not counted in work_s (see _common.burst)

    @property
    def total_s(self) -> float:
        return self.upload_s + self.work_s


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def reset_all() -> None:
    """An empty Redis, database (runs, documents, pages) and media dir; the bench user stays."""
    from django.conf import settings

    from jobs.connection import get_redis
    from jobs.models import JobRun
    from studyapp.documents.models import Document

    get_redis().flushall()
    JobRun.objects.all().delete()
    Document.objects.all().delete()  # pages cascade
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "documents", ignore_errors=True)


class Sides:
    def __init__(self, pdf: Path, log_level: str):
        from django.contrib.auth import get_user_model

        self.pdf = pdf
        self.log_level = log_level
        user_model = get_user_model()
        self.owner = user_model(username="bench")
        self.owner.set_unusable_password()
        self.owner.save()
        self.last_sources: dict[str, int] = {}
        from jobs.policies import policy_for

        self.queue_name = policy_for("extract_document").queue_name()

    def reset(self) -> None:
        reset_all()

    def ours(self) -> Result:
        from django.core.files import File

        from jobs.connection import get_queue, get_redis
        from jobs.pipelines import document_upload
        from jobs.worker import SimpleWorker

        self.reset()
        worker = SimpleWorker([get_queue(self.queue_name)], connection=get_redis())
        c0 = _cpu()
        t0 = time.perf_counter()
        with open(self.pdf, "rb") as fh:
            document, run = document_upload(owner=self.owner, upload=File(fh, name=self.pdf.name), filename=self.pdf.name)
        t1 = time.perf_counter()
        work_s, teardown_s = burst(worker, self.log_level)
        c1 = _cpu()
        pages = self._check(document, run)
        return Result(pages, t1 - t0, work_s, c1 - c0, teardown_s)

    def _check(self, document, run) -> int:
        from collections import Counter

        from jobs.models import JobRun
        from studyapp.documents.models import Document

        run.refresh_from_db()
        document.refresh_from_db()
        others = JobRun.objects.exclude(pk=run.pk).count()
        if others:
            raise SystemExit(f"ours: {others} other run(s) were submitted; only the extraction is measured")
        if run.status != JobRun.Status.SUCCEEDED or document.status != Document.Status.READY:
            raise SystemExit(f"ours: extraction did not succeed: run {run.status} ({run.error}), "
                             f"document {document.status} ({document.error})")
        self.last_sources = dict(Counter(document.pages.values_list("source", flat=True)))
        pages = document.pages.count()
        if pages != document.page_count:
            raise SystemExit(f"ours: {pages} pages stored, the document has {document.page_count}")
        return pages

    def bare(self) -> Result:
        from pypdf import PdfReader

        c0 = _cpu()
        t0 = time.perf_counter()
        pages = 0
        for page in PdfReader(self.pdf).pages:
            page.extract_text()
            pages += 1
        t1 = time.perf_counter()
        return Result(pages, 0.0, t1 - t0, _cpu() - c0)


# --- profiling -------------------------------------------------------------------------------------


def _instrument(timers) -> None:
    import pypdf
    import rq.job
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper

    import jobs.progress
    import jobs.runner
    from studyapp.documents import extraction, services

    timers.wrap(jobs.runner, "run_job", "run_job() total")
    timers.wrap(services, "document_extract", "  document_extract() total")
    timers.wrap(services, "_read_file", "    _read_file(): read the stored PDF")
    timers.wrap(services, "open_pdf", "    services.open_pdf() (a parse just to count pages)")
    timers.wrap(extraction, "_open", "    extraction._open(): parse + decrypt (every call)")
    timers.wrap(extraction, "page_labels", "    page_labels()")
    timers.wrap(extraction, "_ocr_setup", "    _ocr_setup()")
    timers.wrap(extraction, "_open_for_rendering", "    pdfium open for OCR")
    timers.wrap(extraction, "_text_layer", "    _text_layer() per page (all below)")
    timers.wrap(pypdf.PageObject, "extract_text", "      pypdf extract_text()")
    timers.wrap(extraction, "looks_like_glyph_codes", "      looks_like_glyph_codes()")
    timers.wrap(extraction, "clean_text", "      clean_text() (+ page labels)")
    timers.wrap(extraction, "_ocr_page", "    _ocr_page() (OCR)")
    timers.wrap(services, "_store_page", "    _store_page(): DocumentPage INSERT per page")
    if hasattr(services, "PageCheckpoints"):
        timers.wrap(services.PageCheckpoints, "flush", "    PageCheckpoints.flush(): batched page INSERTs")
    timers.wrap(services, "document_summary", "    document_summary()")
    timers.wrap(jobs.progress.ProgressReporter, "__call__", "    progress() total")
    timers.wrap(jobs.progress.ProgressReporter, "_write_meta", "      job.meta write (save_meta)")
    timers.wrap(jobs.progress.ProgressReporter, "_write_row", "      JobRun progress row + cancel check")
    timers.wrap(jobs.runner, "_claim", "  _claim()")
    timers.wrap(jobs.runner, "_succeed", "  _succeed()")
    timers.wrap(rq.job.Job, "save_meta", "all job.save_meta()")
    timers.wrap(CursorWrapper, "execute", "all SQL statements (cursor.execute)")
    timers.wrap(BaseDatabaseWrapper, "commit", "all SQL commits")


def profile(sides: Sides) -> list[str]:
    out = []
    timers = Timers()
    _instrument(timers)
    try:
        ours = sides.ours()
    finally:
        timers.restore()
    bare = sides.bare()
    out.append(f"  ours: {ours.pages} pages, instrumented: upload {ours.upload_s:.2f} s, job {ours.work_s:.2f} s "
               f"({ours.work_s / ours.pages * 1e3:.1f} ms/page, cpu {ours.cpu_s / ours.pages * 1e3:.1f} ms/page); "
               f"bare right after, not instrumented: {bare.work_s:.2f} s ({bare.work_s / bare.pages * 1e3:.1f} ms/page, "
               f"cpu {bare.cpu_s / bare.pages * 1e3:.1f} ms/page)")
    n = ours.pages
    out.append(f"    {'inclusive time in':52} {'wall s':>6} {'ms/page':>8} {'cpu ms/page':>11} {'calls':>6}")
    for label, (total, calls, cpu_total) in timers.totals.items():
        if calls:
            out.append(f"    {label:52} {total:6.2f} {total / n * 1e3:8.2f} {cpu_total / n * 1e3:11.2f} {calls:6d}")

    for name in ("ours", "bare"):
        profiler = cProfile.Profile()
        profiler.enable()
        getattr(sides, name)()
        profiler.disable()
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(12)
        out.append("")
        out.append(f"  cProfile of {name}, top 12 by own time:")
        keep = False
        for line in buffer.getvalue().splitlines():
            if line.strip().startswith("ncalls"):
                keep = True
            if keep and line.strip():
                out.append("    " + line.strip().replace(site_packages(), "…"))
    return out


# --- fan-out: 1 vs 2 forking workers on a 600-page PDF (issue 6) ------------------------------------


def make_long_pdf(source: Path, pages: int, out: Path) -> Path:
    """`pages` pages cycling through the pages of `source` (untimed, written once per run).

    Each cycle copies from a fresh reader, so every page has its own content streams and fonts as in
    a real long PDF: with shared objects a single job would decode each stream once and reuse it,
    while every part decodes its own, which would favour the one-job side.
    """
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    reader = PdfReader(source)
    for i in range(pages):
        if i and i % len(reader.pages) == 0:
            reader = PdfReader(source)
        writer.add_page(reader.pages[i % len(reader.pages)])
    with out.open("wb") as fh:
        writer.write(fh)
    return out


@dataclass
class FanoutResult:
    label: str
    wall_s: float
    cpu_s: float
    pages: int
    parts: int
    workers_used: int


class FanoutSides:
    def __init__(self, pdf: Path, log_level: str):
        from django.contrib.auth import get_user_model

        self.pdf = pdf
        self.log_level = log_level
        self.owner = get_user_model().objects.create(username="bench-fanout")

    def run(self, label: str, workers: int, chunk: int | None) -> FanoutResult:
        import resource
        import signal
        import subprocess

        from django.core.files import File

        from jobs.models import JobRun
        from jobs.pipelines import document_upload

        reset_all()
        env = dict(os.environ, PYTHONUNBUFFERED="1", RQ_LOG_LEVEL=self.log_level, LOG_LEVEL=self.log_level,
                   EXTRACT_FANOUT_PAGES=str(10**6 if chunk is None else 1), EXTRACT_FANOUT_CHUNK=str(chunk or 100))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        procs = [subprocess.Popen([sys.executable, str(REPO / "manage.py"), "rqworker", "cpu_high", "cpu_default",
                                   "cpu_low", "--with-scheduler"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
                 for _ in range(workers)]
        try:
            self._wait_registered(workers)
            t0 = time.perf_counter()
            with open(self.pdf, "rb") as fh:
                document, run = document_upload(owner=self.owner, upload=File(fh, name=self.pdf.name),
                                                filename=self.pdf.name)
            while not JobRun.objects.filter(pk=run.pk, status__in=JobRun.FINISHED).exists():
                time.sleep(0.02)
            wall = time.perf_counter() - t0
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        pages, parts, used = self._check(document, run)
        return FanoutResult(label, wall, cpu, pages, parts, used)

    def _wait_registered(self, n: int) -> None:
        from rq.worker import Worker as RQWorker

        from jobs.connection import get_redis

        deadline = time.monotonic() + 60
        while len(RQWorker.all(connection=get_redis())) < n:
            if time.monotonic() > deadline:
                raise SystemExit(f"fanout: {n} worker(s) did not register within 60 s")
            time.sleep(0.05)

    def _check(self, document, run) -> tuple[int, int, int]:
        from jobs.models import JobRun

        run.refresh_from_db()
        document.refresh_from_db()
        if run.status != JobRun.Status.SUCCEEDED or document.status != "ready":
            raise SystemExit(f"fanout: extraction did not succeed: {run.status} ({run.error}), document {document.status}")
        indexes = list(document.pages.values_list("index", flat=True))
        if sorted(indexes) != list(range(document.page_count)):
            raise SystemExit(f"fanout: {len(indexes)} page rows for {document.page_count} pages")
        parts = JobRun.objects.filter(kind="extract_pages", subject_id=document.pk)
        workers = {run.worker_name, *parts.values_list("worker_name", flat=True)}
        return len(indexes), parts.count(), len(workers)


def fanout_main(args) -> int:
    with bench_environment("extract-fanout", log_level=args.log_level, extra_env={"PIPELINE_AUTO_GRAPH": "0"}) as env:
        from django.conf import settings

        source = args.pdf.resolve() if args.pdf else DEFAULT_PDF
        pdf = source if args.pdf and args.pages == 0 else make_long_pdf(source, args.pages or 600, env.tmpdir / "long.pdf")
        chunks = [int(c) for c in args.chunks.split(",")]
        sides = FanoutSides(pdf, args.log_level)
        print("== extraction fan-out: 2 forking workers vs 1, a big PDF, upload until the extraction succeeded ==")
        for line in machine_lines(env):
            print(line)
        print(f"pdf: {pdf.name} ({pdf.stat().st_size / 1e6:.1f} MB), pages of {source.name}; repeats={args.repeat}; "
              f"OCR_ENABLED={settings.OCR_ENABLED}; chunks {chunks}; workers: manage.py rqworker --with-scheduler")
        configs = [("1 worker, one job", 1, None)]
        for chunk in chunks:
            configs += [(f"1 worker, chunk {chunk}", 1, chunk), (f"2 workers, chunk {chunk}", 2, chunk)]
        results: dict[str, list[FanoutResult]] = {label: [] for label, _, _ in configs}
        print()
        print(f"{'repeat':>6} {'configuration':22} {'pages':>5} {'parts':>5} {'workers':>7} {'wall s':>7} "
              f"{'pages/s':>8} {'cpu s':>6}")
        for r in range(args.repeat):
            order = configs if r % 2 == 0 else list(reversed(configs))
            for label, workers, chunk in order:
                res = sides.run(label, workers, chunk)
                results[label].append(res)
                print(f"{r + 1:>6} {label:22} {res.pages:>5} {res.parts:>5} {res.workers_used:>7} {res.wall_s:7.2f} "
                      f"{res.pages / res.wall_s:8.1f} {res.cpu_s:6.1f}", flush=True)
        print()
        one_job = median([res.wall_s for res in results["1 worker, one job"]])
        print(f"median wall s over {args.repeat} repeats; speed-up = 1-worker time / 2-worker time")
        for chunk in chunks:
            one = median([res.wall_s for res in results[f"1 worker, chunk {chunk}"]])
            two = median([res.wall_s for res in results[f"2 workers, chunk {chunk}"]])
            paired = median([a.wall_s / b.wall_s for a, b in zip(results[f"1 worker, chunk {chunk}"],
                                                                  results[f"2 workers, chunk {chunk}"])])
            print(f"  chunk {chunk:>4}: 1 worker {one:6.2f} s, 2 workers {two:6.2f} s -> 2 vs 1 worker (same settings) "
                  f"{one / two:.2f}x (paired {paired:.2f}x): {verdict(one / two, paired, 1.8)}; "
                  f"vs 1 worker in one job ({one_job:.2f} s): {one_job / two:.2f}x")
        print(f"load average at the end: {load_average()}")
    return 0


# --- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdf", nargs="?", type=Path, default=None,
                        help=f"PDF to extract (default {DEFAULT_PDF.relative_to(REPO)})")
    parser.add_argument("--repeat", type=int, default=5, help="repeats per side, alternating (default 5; 3 with --fanout)")
    parser.add_argument("--profile", action="store_true", help="add an instrumented run and a cProfile per side")
    parser.add_argument("--log-level", default="WARNING", help="worker and app log level (default WARNING)")
    parser.add_argument("--fanout", action="store_true",
                        help="fan-out mode: 2 forking workers vs 1 on a big PDF (see the module docstring)")
    parser.add_argument("--pages", type=int, default=600,
                        help="fan-out: pages of the generated PDF, cycling through PDF's pages (0: use PDF as is)")
    parser.add_argument("--chunks", default="100",
                        help="fan-out: comma-separated EXTRACT_FANOUT_CHUNK values to measure (default 100)")
    args = parser.parse_args(argv)
    if args.fanout:
        if args.repeat == parser.get_default("repeat"):
            args.repeat = 3
        return fanout_main(args)
    pdf = (args.pdf or DEFAULT_PDF).resolve()
    if not pdf.is_file():
        parser.error(f"no such file: {pdf}")

    # Only the extraction: an upload would also submit the concept-graph job after it.
    with bench_environment("extract", log_level=args.log_level, extra_env={"PIPELINE_AUTO_GRAPH": "0"}) as env:
        from django.conf import settings

        from studyapp.documents.extraction import ocr_language

        sides = Sides(pdf, args.log_level)
        print("== extraction: our upload + extract_document job vs a bare pypdf loop ==")
        for line in machine_lines(env):
            print(line)
        ocr = ocr_language(settings.OCR_LANGUAGES) if settings.OCR_ENABLED else None
        print(f"pdf: {pdf} ({pdf.stat().st_size / 1e6:.1f} MB); repeats={args.repeat}; "
              f"OCR_ENABLED={settings.OCR_ENABLED} (tesseract languages: {ocr or 'none'}); "
              f"JOBS_DB_PROGRESS_INTERVAL_S={settings.JOBS_DB_PROGRESS_INTERVAL_S}; "
              f"PIPELINE_AUTO_GRAPH={settings.PIPELINE_AUTO_GRAPH} (extraction only); worker queue {sides.queue_name}")
        print()
        # Warm-up (untimed): imports, tesseract language probe, page cache for the file.
        sides.ours()
        sides.bare()

        results: dict[str, list[Result]] = {"ours": [], "bare": []}
        print(f"{'repeat':>6} {'side':5} {'pages':>5} {'upload s':>8} {'job s':>7} {'total s':>7} {'pages/s':>8} "
              f"{'job pages/s':>11} {'cpu s':>6} {'teardown s':>10}")
        for r in range(args.repeat):
            order = ("ours", "bare") if r % 2 == 0 else ("bare", "ours")
            for side in order:
                res = getattr(sides, side)()
                results[side].append(res)
                print(f"{r + 1:>6} {side:5} {res.pages:>5} {res.upload_s:8.3f} {res.work_s:7.3f} {res.total_s:7.3f} "
                      f"{res.pages / res.total_s:8.1f} {res.pages / res.work_s:11.1f} {res.cpu_s:6.2f} "
                      f"{res.teardown_s:10.3f}", flush=True)
        print(f"page sources (ours, last run): {sides.last_sources}")

        def med(side: str, f) -> float:
            return median([f(res) for res in results[side]])

        e2e = {side: med(side, lambda res: res.pages / res.total_s) for side in results}
        job = {side: med(side, lambda res: res.pages / res.work_s) for side in results}
        paired = median([(o.pages / o.total_s) / (b.pages / b.total_s)
                         for o, b in zip(results["ours"], results["bare"])])
        cpu = {side: med(side, lambda res: res.cpu_s / res.pages * 1e3) for side in results}
        print()
        print(f"median pages/s over {args.repeat} repeats:")
        print(f"  {'':28} {'ours':>8} {'bare':>8} {'ours/bare':>9}")
        print(f"  {'end to end (upload + job)':28} {e2e['ours']:8.1f} {e2e['bare']:8.1f} {e2e['ours'] / e2e['bare']:9.2f}")
        print(f"  {'job only (worker run)':28} {job['ours']:8.1f} {job['bare']:8.1f} {job['ours'] / job['bare']:9.2f}")
        print(f"  {'CPU ms/page (bare/ours)':28} {cpu['ours']:8.1f} {cpu['bare']:8.1f} {cpu['bare'] / cpu['ours']:9.2f}")
        ratio = e2e["ours"] / e2e["bare"]
        print(f"end-to-end ratio ours/bare = {ratio:.2f} from the median rates, {paired:.2f} as the median of the "
              f"per-repeat pairs: {verdict(ratio, paired, 0.95)}")
        if sides.last_sources.get("ocr"):
            print("note: some pages went through OCR, which the bare loop never does: the ratio compares different work")
        print(f"load average at the end: {load_average()}")
        if args.profile:
            print()
            print("profile (one instrumented run per side, untimed; wall-clock and CPU timers around the functions "
                  "below, then cProfile)")
            for line in profile(sides):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
