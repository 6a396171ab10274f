"""Shared plumbing for the benchmarks in bench/: a private Redis, a throwaway SQLite database, the
machine description, medians.

A benchmark never touches the machine's own Redis (6379) or PostgreSQL: `bench_environment()`
starts its own `redis-server` on a free port (no persistence, like tests/conftest.py), points
DATABASE_URL at a SQLite file in a temp dir, sets MEDIA_ROOT / STUDYAPP_VAR_DIR there, and only
then calls django.setup() and migrates. Everything is removed at the end.

Performance is reported as ratios against a baseline measured side by side in the same process,
never as absolute thresholds.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Only used by settings.py when DEBUG is off; never a real secret.
_BENCH_SECRET = "bench-only-not-a-secret-0123456789abcdef0123456789abcdef"


def raw_noop(n: int = 0) -> None:
    """The job function of the raw-RQ baseline: importable by name (`_common.raw_noop`)."""
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PrivateRedis:
    workdir: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        if self.port == 6379:  # never the machine's own Redis
            self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"private redis-server on port {self.port} did not answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def version(self) -> str:
        import redis

        return redis.Redis.from_url(self.url).info("server").get("redis_version", "?")


@dataclass
class BenchEnv:
    tmpdir: Path
    redis: PrivateRedis
    database: str


@contextlib.contextmanager
def bench_environment(name: str, *, log_level: str = "WARNING", extra_env: dict[str, str] | None = None
                      ) -> Iterator[BenchEnv]:
    """Private redis-server + throwaway SQLite + django.setup() + migrate; all removed at the end.

    DEBUG is off (as in production): with DEBUG on, Django records every SQL statement, which
    would slow down only the side that uses the database. AI_PROVIDER is the offline `local` one,
    so nothing a benchmark does can reach a paid API.
    """
    tmpdir = Path(tempfile.mkdtemp(prefix=f"studyapp-bench-{name}-"))
    server = PrivateRedis(workdir=tmpdir)
    server.start()
    try:
        database = tmpdir / "bench.sqlite3"
        os.environ.update(
            DJANGO_SETTINGS_MODULE="studyapp.settings",
            DATABASE_URL=f"sqlite:///{database}",
            REDIS_URL=server.url,
            MEDIA_ROOT=str(tmpdir / "media"),
            STUDYAPP_VAR_DIR=str(tmpdir / "var"),
            DEBUG="0",
            SECRET_KEY=_BENCH_SECRET,
            LOG_LEVEL=log_level,
            RQ_LOG_LEVEL=log_level,
            AI_PROVIDER="local",
        )
        os.environ.update(extra_env or {})
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        _refuse_shared_services(settings, tmpdir)
        call_command("migrate", verbosity=0)
        yield BenchEnv(tmpdir=tmpdir, redis=server, database=str(database))
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        server.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


def _refuse_shared_services(settings, tmpdir: Path) -> None:
    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("sqlite3") or not str(db["NAME"]).startswith(str(tmpdir)):
        raise SystemExit(f"refusing to run: the database is not the throwaway SQLite file ({db['NAME']})")
    urls = {settings.REDIS_URL, *(q["URL"] for q in settings.RQ_QUEUES.values())}
    if any(":6379" in url for url in urls) or len(urls) != 1:
        raise SystemExit(f"refusing to run: Redis is not the private server ({urls})")


def machine_lines(env: BenchEnv | None = None) -> list[str]:
    import django
    import redis as redis_py
    import rq

    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        nproc = str(os.cpu_count())
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    lines = [
        f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}",
        f"machine: nproc={nproc}, cpu={cpu}, {platform.system()} {platform.release()}",
        f"python {platform.python_version()} ({sys.executable}), django {django.get_version()}, rq {rq.__version__}, "
        f"redis-py {redis_py.__version__}",
    ]
    lines.append(f"code: {code_state()}")
    lines.append(f"load average at start: {load_average()} (other processes on the machine add noise; "
                 "sides alternate and medians are reported)")
    if env is not None:
        lines.append(f"redis-server {env.redis.version()} (private, port {env.redis.port}, no persistence); "
                     f"database: throwaway SQLite (WAL, synchronous=NORMAL) in {env.tmpdir}")
    return lines


def code_state() -> str:
    """The commit measured, and the files outside bench/ and docs/ that differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "? (not a git checkout)"
    dirty = [line[3:] for line in status if not line[3:].startswith(("bench/", "docs/"))]
    return f"commit {head}" + (f" + uncommitted changes to {', '.join(dirty)}" if dirty else " (clean)")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def site_packages() -> str:
    """Where Django is installed: shortened to '…' in printed profiles."""
    import django

    return str(Path(django.__file__).resolve().parent.parent)


def median(values: list[float]) -> float:
    return statistics.median(values)


def burst(worker, log_level: str) -> tuple[float, float]:
    """worker.work(burst=True); returns (seconds without the worker's teardown, teardown seconds).

    RQ's teardown joins the worker's pubsub thread with a 1 s timeout, and in short burst runs that
    join often times out (measured: ~2 of 3 one-job bursts, none of the 200-job ones): a stall of
    exactly 1 s that says nothing about job processing, and that a long-lived production worker pays
    once at shutdown. It is timed separately and left out of the drain time, on both sides.
    """
    spent = [0.0]
    original = worker.teardown

    def teardown():
        t0 = time.perf_counter()
        try:
            original()
        finally:
            spent[0] += time.perf_counter() - t0

    worker.teardown = teardown
    t0 = time.perf_counter()
    worker.work(burst=True, logging_level=log_level)
    total = time.perf_counter() - t0
    return total - spent[0], spent[0]


def verdict(ratio: float, paired: float, target: float) -> str:
    """Against the target, by both estimates of the ratio (they differ when the machine drifts)."""
    if ratio >= target and paired >= target:
        return f"meets the >= {target:.2f} target"
    if ratio < target and paired < target:
        return f"BELOW the >= {target:.2f} target"
    return f"borderline: one estimate meets the >= {target:.2f} target, the other does not (noise)"


def fmt_rate(value: float) -> str:
    return f"{value:,.1f}"


def redis_command_count(client) -> int:
    """Total commands the server has executed since the last CONFIG RESETSTAT."""
    stats = client.info("commandstats")
    return sum(entry["calls"] for name, entry in stats.items() if name not in ("cmdstat_config", "cmdstat_info"))


class Timers:
    """Wall-clock and CPU timers wrapped around named functions (inclusive, ~2 us of overhead per call).

    Cheaper and closer to reality than cProfile, which inflates Python-heavy code such as the ORM's
    SQL compiler several times over.
    """

    def __init__(self):
        self.totals: dict[str, list[float]] = {}
        self.samples: dict[str, list[float]] = {}
        self._patched: list[tuple[object, str, object]] = []

    def wrap(self, owner: object, attr: str, label: str, *, keep_samples: bool = False) -> None:
        """Time `owner.attr` under `label`; a function the code no longer has is skipped (no row)."""
        if not hasattr(owner, attr):
            return
        original = getattr(owner, attr)
        totals = self.totals.setdefault(label, [0.0, 0, 0.0])  # wall s, calls, cpu s
        samples = self.samples.setdefault(label, []) if keep_samples else None
        perf, cpu = time.perf_counter, time.process_time

        def timed(*args, **kwargs):
            t0, c0 = perf(), cpu()
            try:
                return original(*args, **kwargs)
            finally:
                dt = perf() - t0
                totals[0] += dt
                totals[1] += 1
                totals[2] += cpu() - c0
                if samples is not None:
                    samples.append(dt)

        # Same __module__/__qualname__: RQ stores a job function by its dotted name.
        functools.update_wrapper(timed, original)
        # Class attributes that are functions: keep them plain functions so they still bind `self`.
        self._patched.append((owner, attr, owner.__dict__.get(attr, _MISSING) if hasattr(owner, "__dict__") else _MISSING))
        setattr(owner, attr, timed)

    def restore(self) -> None:
        for owner, attr, original in reversed(self._patched):
            if original is _MISSING:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)
        self._patched.clear()


_MISSING = object()
