"""Test harness: a private redis-server per test session, temp media, and ways to run jobs.

No test touches the machine's own Redis: each pytest process (each xdist worker) starts its own
redis-server on a free port and points RQ_QUEUES at it. Tests may flush it or stop it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings

# Provider calls that blink are tried again after this base delay (2 s in production); workers
# started by tests inherit it through the environment.
os.environ.setdefault("AI_CALL_RETRY_BASE_S", "0.05")

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
PDFS = FIXTURES / "pdfs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.exit("redis-server is not installed: run `make setup` (or apt-get install redis-server)", 2)
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> RedisServer:
    server = RedisServer(port=free_port(), process=None, workdir=tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _private_redis(redis_server):
    """Point the project at the private server for the whole session."""
    django_settings.REDIS_URL = redis_server.url
    django_settings.RQ_QUEUES = {name: {"URL": redis_server.url, "DEFAULT_TIMEOUT": 600}
                                 for name in django_settings.JOB_QUEUE_NAMES}
    yield


@pytest.fixture(autouse=True)
def _clean_redis(redis_server):
    if redis_server.process.poll() is not None:
        redis_server.start()  # a failure test stopped it
    redis_server.client().flushall()
    yield


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fast_provider_retries(settings):
    settings.AI_CALL_RETRY_BASE_S = float(os.environ["AI_CALL_RETRY_BASE_S"])


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-password-1")


def child_pids(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def kill_worker_and_horse(pid: int) -> None:
    """kill -9 a worker and its work-horse together (RQ puts the horse in its own process group)."""
    for victim in [pid, *child_pids(pid)]:
        try:
            os.kill(victim, 9)
        except ProcessLookupError:
            pass


def pdf_path(name: str) -> Path:
    return PDFS / name


@pytest.fixture
def worker_env(redis_server) -> dict[str, str]:
    """Environment for a subprocess (worker, manage.py) that must see this test's DB and Redis."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_server.url, DJANGO_SETTINGS_MODULE="studyapp.settings",
               MEDIA_ROOT=str(django_settings.MEDIA_ROOT), PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """Start real forking `manage.py rqworker` processes; all are stopped at the end of the test."""
    processes: list[subprocess.Popen] = []

    def start(*queues: str, burst: bool = False, extra_env: dict | None = None) -> subprocess.Popen:
        from jobs.policies import all_queue_names

        args = [sys.executable, str(REPO / "manage.py"), "rqworker", *(queues or all_queue_names()),
                "--with-scheduler"]
        if burst:
            args.append("--burst")
        log = open(tmp_path / f"worker-{len(processes)}.log", "wb")
        proc = subprocess.Popen(args, env={**worker_env, **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                cwd=REPO, start_new_session=True)
        proc.log_path = log.name  # type: ignore[attr-defined]
        processes.append(proc)
        return proc

    yield start
    for proc in processes:
        if proc.poll() is None:
            kill_worker_and_horse(proc.pid)
            proc.wait(10)
        # Shown by pytest only when the test failed.
        print(f"--- {proc.log_path} ---\n" + Path(proc.log_path).read_text(errors="replace")[-6000:])
