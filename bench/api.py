"""API latency: GET /api/jobs/{id} at a fixed request rate on a real server while workers are busy,
side by side with a trivial Django view on the same server.

    .venv/bin/python bench/api.py [--rate 40] [--duration 10] [--repeat 3] [--web-workers 2] [--rq-workers 2]
                                  [--profile]

Server: gunicorn (sync workers, as in the Procfile) on a free loopback port, running the project with
one extra URL, /bench/ping: a view that returns {"ok": true} through the same middleware stack, with
no auth and no database (bench/api_urls.py). Workers: real `manage.py rqworker` processes on every
queue, kept busy by real work: PDF uploads (extraction, then the concept graph with the offline local
provider), topped up before every round so the queues never run dry.

jobs: GET /api/jobs/{id} with `Authorization: Bearer <key>` (key lookup, the run's row, job.meta from
      Redis for a running run), cycling over the ids of the student's runs that the workers are
      working through (queued, running, waiting, finished), i.e. what a client polling its jobs asks.
ping: GET /bench/ping.

After an untimed warm-up (both workers busy, a few seconds of each side), load is open-loop: request i
is due at t0 + i / rate, sent by a pool of client threads (new connection per request, as gunicorn's
sync workers close them). Latency is counted from when a request was due, not when a thread got round
to sending it, so a slow server cannot hide its queueing (coordinated omission). Sides alternate per round; p50/p90/p99 over all rounds are reported, with the ratio
jobs/ping. The client threads share the 2 cores with the server and the workers, on both sides alike.
Everything (redis-server, SQLite, media, gunicorn, workers) is private and removed at the end.
--profile adds, afterwards and untimed, per-request wall and CPU time of both sides in this process
(Django's test client) with timers around the parts of the job status request.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import REPO, Timers, bench_environment, free_port, load_average, machine_lines, median

DEFAULT_PDF = REPO / "tests" / "fixtures" / "pdfs" / "GeoTopo-komprimiert.pdf"
PYTHON = sys.executable


@dataclass
class Round:
    side: str
    latencies_ms: list[float] = field(default_factory=list)  # from due time to response read
    service_ms: list[float] = field(default_factory=list)  # from send to response read
    errors: dict[str, int] = field(default_factory=dict)
    late_starts: int = 0  # requests sent more than 10 ms after they were due (client or server behind)
    running_runs: tuple[int, int] = (0, 0)  # runs in status running at the start and at the end
    wall_s: float = 0.0

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + sum(self.errors.values())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


class Server:
    """gunicorn + rqworker processes, each in its own session so the whole group can be stopped."""

    def __init__(self, env: dict[str, str], web_workers: int, rq_workers: int, logdir: Path):
        self.port = free_port()
        self.env = env
        self.logdir = logdir
        self.processes: list[subprocess.Popen] = []
        self.web_workers = web_workers
        self.rq_workers = rq_workers

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.logdir / f"{name}.log", "wb")
        self.processes.append(subprocess.Popen(args, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def start(self) -> None:
        from jobs.policies import all_queue_names

        web_env = {**self.env, "DJANGO_SETTINGS_MODULE": "api_settings",
                   "PYTHONPATH": os.pathsep.join([str(REPO / "bench"), str(REPO)])}
        self._start("gunicorn", [str(Path(PYTHON).parent / "gunicorn"), "studyapp.wsgi", "--bind",
                                 f"127.0.0.1:{self.port}", "--workers", str(self.web_workers), "--log-level", "warning"],
                    web_env)
        for n in range(self.rq_workers):
            self._start(f"rqworker-{n}", [PYTHON, "manage.py", "rqworker", *all_queue_names(), "--with-scheduler"],
                        self.env)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                status, _ = request("127.0.0.1", self.port, "/bench/ping", {})
                if status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"gunicorn did not answer on port {self.port}; see {self.logdir}/gunicorn.log")

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for proc in self.processes:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # a worker in the middle of a long job
                proc.wait(5)


def request(host: str, port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load(port: int, paths: list[str], headers: dict[str, str], rate: float, duration: float, threads: int,
         result: Round) -> None:
    """Open-loop load: request i is due at t0 + i / rate; latency counts from the due time."""
    total = int(rate * duration)
    start = time.perf_counter() + 0.1
    next_index = iter(range(total))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                status, _ = request("127.0.0.1", port, paths[i % len(paths)], headers)
            except OSError as exc:
                status = type(exc).__name__
            done = time.perf_counter()
            with lock:
                if sent - due > 0.010:
                    result.late_starts += 1
                if status == 200:
                    result.latencies_ms.append((done - due) * 1e3)
                    result.service_ms.append((done - sent) * 1e3)
                else:
                    result.errors[str(status)] = result.errors.get(str(status), 0) + 1

    pool = [threading.Thread(target=client, daemon=True) for _ in range(threads)]
    t0 = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    result.wall_s = time.perf_counter() - t0


class Workload:
    """One student uploading the PDF again and again (a comment after %%EOF makes each copy a new
    document): each upload is an extraction and a graph build for the workers."""

    def __init__(self, pdf: Path):
        from django.contrib.auth import get_user_model

        from studyapp.apikeys.services import api_key_create

        self.pdf_bytes = pdf.read_bytes()
        self.name = pdf.name
        self.uploads = 0
        self.student = get_user_model().objects.create(username="student")
        self.key = api_key_create(owner=self.student, name="bench")[1]

    def top_up(self, unfinished_at_least: int) -> None:
        import io

        from jobs.models import JobRun
        from jobs.pipelines import document_upload

        while JobRun.objects.filter(status__in=JobRun.UNFINISHED).count() < unfinished_at_least:
            self.uploads += 1
            copy = self.pdf_bytes + f"\n% copy {self.uploads}\n".encode()
            document_upload(owner=self.student, upload=io.BytesIO(copy), filename=self.name)

    def run_paths(self, limit: int = 200) -> list[str]:
        from jobs.models import JobRun

        ids = JobRun.objects.filter(owner=self.student).order_by("-created_at").values_list("pk", flat=True)[:limit]
        return [f"/api/jobs/{pk}" for pk in ids]

    @staticmethod
    def running() -> int:
        from jobs.models import JobRun

        return JobRun.objects.filter(status=JobRun.Status.RUNNING).count()


def summary_line(label: str, values: list[float]) -> str:
    return (f"  {label:26} {percentile(values, 50):8.1f} {percentile(values, 90):8.1f} {percentile(values, 99):8.1f} "
            f"{max(values) if values else float('nan'):8.1f} {statistics.fmean(values) if values else float('nan'):8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second per side (default 40)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per round per side (default 10)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per side, alternating (default 3)")
    parser.add_argument("--threads", type=int, default=32, help="client threads (default 32)")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--rq-workers", type=int, default=2, help="busy rqworker processes (default 2)")
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF, help="what the student uploads")
    parser.add_argument("--profile", action="store_true",
                        help="then, in this process and untimed: where one request's time goes (timers)")
    args = parser.parse_args(argv)

    with bench_environment("api") as env:
        from django.conf import settings

        print("== API latency: GET /api/jobs/{id} vs a trivial Django view, same gunicorn, workers busy ==")
        for line in machine_lines(env):
            print(line)
        print(f"rate={args.rate:g} req/s per side, {args.duration:g} s per round, rounds={args.repeat} per side "
              f"(alternating), client threads={args.threads}, gunicorn sync workers={args.web_workers}, "
              f"busy rqworkers={args.rq_workers}, AI_PROVIDER={settings.AI_PROVIDER}, workload: uploads of "
              f"{args.pdf.name} (extraction + concept graph)")
        workload = Workload(args.pdf.resolve())
        workload.top_up(4 * args.rq_workers)
        server = Server(dict(os.environ), args.web_workers, args.rq_workers, env.tmpdir)
        try:
            server.start()
            warm_up(server, workload, args)
            rounds = measure(server, workload, args)
        finally:
            server.stop()
        report(rounds, workload, args)
        if args.profile:
            print()
            print("profile (in this process, Django's test client, workers stopped; wall-clock and CPU timers around "
                  "the functions below)")
            for line in profile(workload):
                print(line)
    return 0


def warm_up(server: Server, workload: Workload, args, seconds: float = 3.0) -> None:
    """Untimed: until both workers are running jobs, then a few seconds of each side (imports, connections)."""
    deadline = time.monotonic() + 60
    while workload.running() < args.rq_workers and time.monotonic() < deadline:
        time.sleep(0.2)
    for paths, headers in ((workload.run_paths(), {"Authorization": f"Bearer {workload.key}"}), (["/bench/ping"], {})):
        load(server.port, paths, headers, args.rate, seconds, args.threads, Round(side="warm-up"))


def measure(server: Server, workload: Workload, args) -> list[Round]:
    rounds: list[Round] = []
    print()
    print(f"{'round':>5} {'side':5} {'sent':>5} {'ok':>5} {'errors':>12} {'p50 ms':>8} {'p99 ms':>8} {'late':>5} "
          f"{'running runs':>12} {'load avg':>9}")
    for r in range(args.repeat):
        for side in (("jobs", "ping") if r % 2 == 0 else ("ping", "jobs")):
            workload.top_up(4 * args.rq_workers)
            if side == "jobs":
                paths, headers = workload.run_paths(), {"Authorization": f"Bearer {workload.key}"}
            else:
                paths, headers = ["/bench/ping"], {}
            result = Round(side=side)
            before = workload.running()
            load(server.port, paths, headers, args.rate, args.duration, args.threads, result)
            result.running_runs = (before, workload.running())
            rounds.append(result)
            errors = ",".join(f"{k}:{v}" for k, v in result.errors.items()) or "0"
            print(f"{r + 1:>5} {side:5} {result.sent:>5} {len(result.latencies_ms):>5} {errors:>12} "
                  f"{percentile(result.latencies_ms, 50):8.1f} {percentile(result.latencies_ms, 99):8.1f} "
                  f"{result.late_starts:>5} {result.running_runs[0]:>5} -> {result.running_runs[1]:<4} "
                  f"{os.getloadavg()[0]:9.2f}", flush=True)
    return rounds


def report(rounds: list[Round], workload: Workload, args) -> None:
    from jobs.models import JobRun

    pooled = {side: [ms for r in rounds if r.side == side for ms in r.latencies_ms] for side in ("jobs", "ping")}
    service = {side: [ms for r in rounds if r.side == side for ms in r.service_ms] for side in ("jobs", "ping")}
    print()
    print(f"latency in ms from the due time, all {args.repeat} rounds per side pooled "
          f"({len(pooled['jobs'])} + {len(pooled['ping'])} requests)")
    print(f"  {'':26} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'mean':>8}")
    print(summary_line("GET /api/jobs/{id}", pooled["jobs"]))
    print(summary_line("GET /bench/ping (baseline)", pooled["ping"]))
    print(summary_line("  jobs, service time only", service["jobs"]))
    print(summary_line("  ping, service time only", service["ping"]))
    for q in (50, 99):
        ratio = percentile(pooled["jobs"], q) / percentile(pooled["ping"], q)
        paired = median([percentile(j.latencies_ms, q) / percentile(p.latencies_ms, q)
                         for j, p in zip([r for r in rounds if r.side == "jobs"], [r for r in rounds if r.side == "ping"])])
        print(f"p{q} ratio jobs/ping = {ratio:.2f} pooled, {paired:.2f} as the median of the per-round pairs")
    errors = sum(sum(r.errors.values()) for r in rounds)
    busy = [n for r in rounds for n in r.running_runs]
    print(f"non-200 answers: {errors}; runs in status running at round starts/ends: min {min(busy)}, max {max(busy)} "
          f"(of {args.rq_workers} workers); uploads made: {workload.uploads}; runs finished meanwhile: "
          f"{JobRun.objects.filter(status__in=JobRun.FINISHED).count()}")
    print(f"load average at the end: {load_average()}")


def profile(workload: Workload, n: int = 500) -> list[str]:
    """Per request: the job status GET of a running run (its job.meta read from Redis) vs the ping view."""
    import redis
    import rq.job
    from django.db.backends.utils import CursorWrapper
    from django.test import Client, override_settings

    import studyapp.api.auth
    import studyapp.api.jobs
    from jobs.models import JobRun

    run = JobRun.objects.filter(owner=workload.student).order_by("-created_at").first()
    JobRun.objects.filter(pk=run.pk).update(status=JobRun.Status.RUNNING)  # a running run reads job.meta
    client, headers = Client(), {"authorization": f"Bearer {workload.key}"}
    out = []
    with override_settings(ROOT_URLCONF="api_urls"):
        for label, path, hdrs in ((f"GET /api/jobs/{{id}} (running)", f"/api/jobs/{run.pk}", headers),
                                  ("GET /bench/ping", "/bench/ping", {})):
            for _ in range(20):
                client.get(path, headers=hdrs)
            timers = Timers()
            timers.wrap(studyapp.api.auth, "api_key_authenticate", "  api_key_authenticate (key + owner)")
            timers.wrap(studyapp.api.jobs, "run_for_owner", "  run_for_owner (the run's row)")
            timers.wrap(studyapp.api.jobs, "live_progress", "  live_progress (row + job.meta)")
            timers.wrap(rq.job.Job, "fetch", "    rq Job.fetch (job.meta)")
            timers.wrap(CursorWrapper, "execute", "  all SQL statements")
            timers.wrap(redis.client.Redis, "execute_command", "  all Redis commands")
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                for _ in range(n):
                    status = client.get(path, headers=hdrs).status_code
            finally:
                timers.restore()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            out.append(f"  {label}: {n} requests, status {status}, {wall / n * 1e6:.0f} us wall and "
                       f"{cpu / n * 1e6:.0f} us CPU per request (test client included)")
            for name, (total, calls, cpu_total) in timers.totals.items():
                if calls:
                    out.append(f"    {name:40} {total / n * 1e6:7.0f} us wall {cpu_total / n * 1e6:7.0f} us cpu "
                               f"{calls / n:5.2f} calls/request")
    return out


if __name__ == "__main__":
    sys.exit(main())
