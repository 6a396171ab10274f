"""Worker pools: the Procfile's and compose's worker commands, and a real `rqworker-pool` process."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from jobs.models import JobRun
from jobs.policies import TIERS, all_queue_names
from jobs.submit import submit
from tests.conftest import REPO, kill_worker_and_horse

WORKER_ROLES = {"cpu_worker": ("cpu", "CPU_WORKERS"), "ai_worker": ("ai", "AI_WORKERS")}


def procfile_commands() -> dict[str, str]:
    lines = (REPO / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def compose_commands() -> dict[str, str]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    services = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())["services"]
    return {role: services[role]["command"] for role in WORKER_ROLES}


@pytest.mark.parametrize("source", [procfile_commands, compose_commands], ids=["Procfile", "compose"])
def test_each_group_has_a_pool_that_reads_its_queues_high_to_low(source):
    """rqworker-pool on the group's queues in all_queue_names' order, sized by its env variable."""
    commands = source()
    for role, (group, variable) in WORKER_ROLES.items():
        words = shlex.split(commands[role])
        assert words[words.index("manage.py") + 1] == "rqworker-pool", commands[role]
        queues = [w for w in words if w.startswith(f"{group}_")]
        assert queues == [f"{group}_{tier}" for tier in TIERS] == [q for q in all_queue_names() if q.startswith(group)]
        assert re.search(r"--num-workers \$\{" + variable + r":-\d+\}", commands[role]), commands[role]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_pool_runs_high_before_default_before_low(alice, worker_env, tmp_path):
    """Three runs enqueued low, default, high (FIFO would run them in that order); the Procfile's
    cpu_worker pool with one worker, in burst mode, starts them high, default, low."""
    runs = {tier: submit("noop", alice, alice, {"n": n}, tier=tier) for n, tier in enumerate(("low", "default", "high"))}
    assert [runs[t].queue for t in ("low", "default", "high")] == ["cpu_low", "cpu_default", "cpu_high"]

    command = procfile_commands()["cpu_worker"]
    log_path = tmp_path / "pool.log"
    with log_path.open("wb") as log:
        pool = subprocess.Popen(["bash", "-c", f"exec {command} --burst"], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                env={**worker_env, "CPU_WORKERS": "1"})
        try:
            exit_code = pool.wait(120)
        finally:
            if pool.poll() is None:
                kill_worker_and_horse(pool.pid)
            print(Path(log_path).read_text(errors="replace")[-4000:])
    assert exit_code == 0
    finished = {tier: JobRun.objects.get(pk=run.pk) for tier, run in runs.items()}
    assert {run.status for run in finished.values()} == {"succeeded"}
    started = sorted(finished, key=lambda tier: finished[tier].started_at)
    assert started == ["high", "default", "low"]
    assert len({run.worker_name for run in finished.values()}) == 1, "one worker took all three"
