"""Queue overhead: no-op jobs through our job layer vs raw RQ, same worker class, same Redis.

    .venv/bin/python bench/queue_overhead.py [--jobs N] [--worker simple|fork] [--repeat R] [--profile]

ours: N x jobs.submit.submit("noop", subject, owner, {"n": i}) in autocommit mode (each submission
      its own transaction: JobRun INSERT, commit, enqueue on commit, enqueued_at UPDATE), then one
      jobs.worker.SimpleWorker / jobs.worker.Worker burst run executing jobs.runner.run_job.
raw:  N x queue.enqueue(raw_noop, i) of a module-level no-op (same timeout / TTLs as the noop
      policy), then one rq.SimpleWorker / rq.Worker burst run.

Both sides use the queue the noop policy names (cpu_low) on a private redis-server, one worker
listening on that queue only. Phases are timed separately: (a) enqueue, (b) drain
(worker.work(burst=True), including worker start-up and maintenance but not RQ's worker teardown,
see _common.burst), (c) end to end = a + b. Sides alternate across repeats; medians are reported
with the ratio ours/raw (target >= 0.8 end to end). Redis is flushed and JobRun rows deleted between
runs (untimed), so every run starts equal.

After the timed runs, a census of 200 jobs per side (SimpleWorker, untimed) counts SQL statements
and Redis commands per job. --profile adds one run per side with wall-clock and CPU timers wrapped
around the functions that matter (where the time goes, in us/job) and a cProfile of our side.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass

from _common import (
    BenchEnv,
    Timers,
    bench_environment,
    burst,
    fmt_rate,
    load_average,
    machine_lines,
    median,
    raw_noop,
    redis_command_count,
    site_packages,
    verdict,
)

KIND = "noop"


@dataclass
class Result:
    n: int
    enqueue_s: float
    drain_s: float
    cpu_s: float = 0.0  # this process + reaped work-horses, both phases
    redis_cpu_s: float = 0.0  # the private redis-server, both phases
    teardown_s: float = 0.0  # RQ worker teardown, not counted in drain_s (see _common.burst)

    @property
    def total_s(self) -> float:
        return self.enqueue_s + self.drain_s

    def rates(self) -> tuple[float, float, float]:
        return self.n / self.enqueue_s, self.n / self.drain_s, self.n / self.total_s


class Sides:
    """Both sides of the comparison, bound to one benchmark environment."""

    def __init__(self, env: BenchEnv, worker: str, log_level: str):
        import rq
        from django.contrib.auth import get_user_model

        import jobs.worker
        from jobs.connection import get_queue, get_redis
        from jobs.policies import policy_for

        self.env = env
        self.log_level = log_level
        self.policy = policy_for(KIND)
        self.queue_name = self.policy.queue_name()
        self.redis = get_redis(self.queue_name)
        self.get_queue = get_queue
        self.our_worker = {"simple": jobs.worker.SimpleWorker, "fork": jobs.worker.Worker}[worker]
        self.raw_worker = {"simple": rq.SimpleWorker, "fork": rq.Worker}[worker]
        user_model = get_user_model()
        self.owner = user_model(username="bench")
        self.owner.set_unusable_password()
        self.owner.save()

    def reset(self) -> None:
        from jobs.models import JobRun

        self.redis.flushall()
        JobRun.objects.all().delete()

    # --- ours ----------------------------------------------------------------------------------

    def ours(self, n: int, *, worker_class=None, on_phase=None) -> Result:
        from jobs.submit import submit

        self.reset()
        queue = self.get_queue(self.queue_name)
        worker = (worker_class or self.our_worker)([queue], connection=self.redis)
        owner = self.owner
        _phase(on_phase, "enqueue")
        c0, r0 = _cpu(), self._redis_cpu()
        t0 = time.perf_counter()
        for i in range(n):
            submit(KIND, owner, owner, {"n": i})
        t1 = time.perf_counter()
        _phase(on_phase, "drain")
        drain_s, teardown_s = burst(worker, self.log_level)
        c1, r1 = _cpu(), self._redis_cpu()
        _phase(on_phase, None)
        self._check_ours(n, queue)
        return Result(n, t1 - t0, drain_s, c1 - c0, r1 - r0, teardown_s)

    def _check_ours(self, n: int, queue) -> None:
        from jobs.models import JobRun

        statuses = Counter(JobRun.objects.values_list("status", flat=True))
        if statuses != Counter({JobRun.Status.SUCCEEDED: n}) or queue.count:
            raise SystemExit(f"ours: not every run succeeded: {dict(statuses)}, {queue.count} left on the queue")

    # --- raw -----------------------------------------------------------------------------------

    def raw(self, n: int, *, worker_class=None, on_phase=None) -> Result:
        self.reset()
        queue = self.get_queue(self.queue_name)
        worker = (worker_class or self.raw_worker)([queue], connection=self.redis)
        policy = self.policy
        _phase(on_phase, "enqueue")
        c0, r0 = _cpu(), self._redis_cpu()
        t0 = time.perf_counter()
        for i in range(n):
            queue.enqueue(raw_noop, i, job_timeout=policy.timeout_s, result_ttl=policy.result_ttl_s,
                          failure_ttl=policy.failure_ttl_s)
        t1 = time.perf_counter()
        _phase(on_phase, "drain")
        drain_s, teardown_s = burst(worker, self.log_level)
        c1, r1 = _cpu(), self._redis_cpu()
        _phase(on_phase, None)
        finished = queue.finished_job_registry.count
        if finished != n or queue.count:
            raise SystemExit(f"raw: {finished}/{n} jobs finished, {queue.count} left on the queue")
        return Result(n, t1 - t0, drain_s, c1 - c0, r1 - r0, teardown_s)

    def _redis_cpu(self) -> float:
        info = self.redis.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _phase(callback, name) -> None:
    if callback is not None:
        callback(name)


# --- census: SQL statements and Redis commands per job ---------------------------------------------


_LITERALS = re.compile(r"'[^']*'|\b\d+(\.\d+)?\b|%s|\?")


def _shape(sql: str) -> str:
    sql = _LITERALS.sub("?", " ".join(sql.split()))
    verb = sql.split(" ", 1)[0].upper()
    if verb == "SELECT":
        table = re.search(r'FROM "(\w+)"', sql)
        where = re.search(r"WHERE (.*?)(ORDER BY|LIMIT|$)", sql)
        cols = re.findall(r'"\w+"\."(\w+)" (?:=|IN)', where.group(1)) if where else []
        return f"SELECT {table.group(1) if table else '?'} WHERE {','.join(cols) or '-'}"
    if verb == "INSERT":
        table = re.search(r'INSERT INTO "(\w+)"', sql)
        return f"INSERT {table.group(1) if table else '?'}"
    if verb == "UPDATE":
        table = re.search(r'UPDATE "(\w+)"', sql)
        sets = re.findall(r'"(\w+)" = ', sql.split(" WHERE ")[0])
        return f"UPDATE {table.group(1) if table else '?'} SET {','.join(sets)}"
    return verb


def census(sides: Sides, n: int = 200) -> list[str]:
    from django.db import connection

    out = []
    for name in ("ours", "raw"):
        phase = {"name": None}
        statements: dict[str, Counter] = {"enqueue": Counter(), "drain": Counter()}
        redis_calls: dict[str, int] = {}

        def on_phase(new, phase=phase, redis_calls=redis_calls):
            if phase["name"] is not None:
                redis_calls[phase["name"]] = redis_command_count(sides.redis)
            phase["name"] = new
            sides.redis.config_resetstat()

        def count_sql(execute, sql, params, many, context, phase=phase, statements=statements):
            if phase["name"] in statements:
                statements[phase["name"]][_shape(sql)] += 1
            return execute(sql, params, many, context)

        worker_class = None
        if name == "ours":
            import jobs.worker

            worker_class = jobs.worker.SimpleWorker
        else:
            import rq

            worker_class = rq.SimpleWorker
        with connection.execute_wrapper(count_sql):
            getattr(sides, name)(n, worker_class=worker_class, on_phase=on_phase)
        for ph in ("enqueue", "drain"):
            sql_total = sum(statements[ph].values())
            out.append(f"  {name:4} {ph:7}: {sql_total / n:5.2f} SQL statements/job, "
                       f"{redis_calls.get(ph, 0) / n:5.2f} Redis commands/job")
            for shape, count in statements[ph].most_common():
                out.append(f"      {count / n:5.2f}/job  {shape}")
    return out


# --- profiling -------------------------------------------------------------------------------------


def _instrument(timers: Timers) -> None:
    import redis.client
    import rq.job
    import rq.queue
    import rq.worker.base
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper

    import jobs.runner
    import jobs.submit
    import jobs.worker
    from jobs.models import JobRun

    # ours, enqueue phase
    timers.wrap(jobs.submit, "submit", "submit() total")
    timers.wrap(jobs.submit, "_validated", "  pydantic payload validation")
    timers.wrap(jobs.submit, "_unfinished", "  _unfinished(): SELECT by idempotency key", keep_samples=True)
    timers.wrap(JobRun.objects, "create", "  JobRun INSERT (objects.create)")
    timers.wrap(jobs.submit, "enqueue_run", "  enqueue_run() on commit")
    timers.wrap(jobs.submit, "_upstream_dependency", "    _upstream_dependency()")
    # ours, drain phase
    timers.wrap(jobs.worker, "recover_lost_runs", "recover_lost_runs() (maintenance)")
    timers.wrap(jobs.runner, "run_job", "run_job() total (our job function)")
    timers.wrap(jobs.runner, "_wait_for_upstream", "  _wait_for_upstream()")
    timers.wrap(jobs.runner, "_claim", "  _claim(): conditional UPDATE (+ whatever it reads)")
    timers.wrap(JobRun, "refresh_from_db", "  refresh_from_db(): SELECT")
    timers.wrap(jobs.runner, "_execute", "  _execute(): task + _succeed")
    timers.wrap(jobs.runner, "_succeed", "    _succeed(): UPDATE (+ job.meta)")
    timers.wrap(jobs.runner, "set_meta_stage", "  set_meta_stage() (a job.meta write)")
    # both sides
    timers.wrap(rq.queue.Queue, "enqueue_call", "rq Queue.enqueue_call")
    timers.wrap(rq.worker.base.BaseWorker, "dequeue_job_and_maintain_ttl", "rq dequeue_job_and_maintain_ttl")
    timers.wrap(rq.worker.base.BaseWorker, "prepare_job_execution", "rq prepare_job_execution")
    timers.wrap(rq.job.Job, "perform", "rq Job.perform (calls the job function)")
    timers.wrap(rq.worker.base.BaseWorker, "handle_job_success", "rq handle_job_success")
    timers.wrap(rq.worker.base.BaseWorker, "heartbeat", "rq heartbeat")
    timers.wrap(CursorWrapper, "execute", "all SQL statements (cursor.execute)")
    timers.wrap(BaseDatabaseWrapper, "commit", "all SQL commits")
    timers.wrap(redis.client.Redis, "execute_command", "Redis single commands")
    timers.wrap(redis.client.Pipeline, "execute", "Redis pipelines")


def profile(sides: Sides, n: int) -> list[str]:
    import jobs.worker
    import rq

    out = []
    for name, worker_class in (("ours", jobs.worker.SimpleWorker), ("raw", rq.SimpleWorker)):
        timers = Timers()
        _instrument(timers)
        try:
            result = getattr(sides, name)(n, worker_class=worker_class)
        finally:
            timers.restore()
        out.append(f"  {name}: {n} jobs, instrumented: enqueue {result.enqueue_s:.2f} s "
                   f"({result.enqueue_s / n * 1e6:.0f} us/job), drain {result.drain_s:.2f} s "
                   f"({result.drain_s / n * 1e6:.0f} us/job), cpu {result.cpu_s / n * 1e6:.0f} us/job")
        out.append(f"    {'inclusive time in':46} {'wall s':>6} {'wall us/job':>11} {'cpu us/job':>10} {'calls/job':>9}")
        for label, (total, calls, cpu_total) in timers.totals.items():
            if calls:
                out.append(f"    {label:46} {total:6.2f} {total / n * 1e6:11.0f} {cpu_total / n * 1e6:10.0f} "
                           f"{calls / n:9.2f}")
        samples = timers.samples.get("  _unfinished(): SELECT by idempotency key") or []
        if len(samples) >= 20:
            k = max(1, len(samples) // 10)
            first, last = sum(samples[:k]) / k, sum(samples[-k:]) / k
            out.append(f"    _unfinished() mean: first {k} submissions {first * 1e6:.0f} us, last {k} "
                       f"{last * 1e6:.0f} us (grows with the number of unfinished runs)")

    out.append("")
    out.append(f"  cProfile of ours ({n} jobs, SimpleWorker), top 15 by own time:")
    profiler = cProfile.Profile()
    profiler.enable()
    sides.ours(n, worker_class=jobs.worker.SimpleWorker)
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(15)
    keep = False
    for line in buffer.getvalue().splitlines():
        if line.strip().startswith("ncalls"):
            keep = True
        if keep and line.strip():
            out.append("    " + line.strip().replace(site_packages(), "…"))
    return out


# --- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per side per repeat (default 2000)")
    parser.add_argument("--worker", choices=("simple", "fork"), default="simple",
                        help="SimpleWorker (in-process) or the forking Worker, same class family both sides")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per side, alternating (default 3)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed jobs per side first (default 50)")
    parser.add_argument("--profile", action="store_true", help="add an instrumented run per side and a cProfile")
    parser.add_argument("--no-census", action="store_true", help="skip the SQL/Redis per-job census")
    parser.add_argument("--log-level", default="WARNING",
                        help="worker and app log level (default WARNING; INFO logs every job on both sides)")
    args = parser.parse_args(argv)

    with bench_environment("queue", log_level=args.log_level) as env:
        sides = Sides(env, args.worker, args.log_level)
        print("== queue overhead: our submit() + runner vs raw RQ enqueue, no-op jobs ==")
        for line in machine_lines(env):
            print(line)
        print(f"jobs/side/repeat={args.jobs}, repeats={args.repeat}, worker={args.worker} "
              f"(ours: jobs.worker.{sides.our_worker.__name__}, raw: rq.{sides.raw_worker.__name__}), "
              f"queue={sides.queue_name}, log level={args.log_level}, warm-up={args.warmup}")
        print()
        if args.warmup:
            sides.ours(args.warmup)
            sides.raw(args.warmup)

        results: dict[str, list[Result]] = {"ours": [], "raw": []}
        print(f"{'repeat':>6} {'side':5} {'enqueue/s':>10} {'drain/s':>9} {'end-to-end/s':>12} "
              f"{'cpu ms/job':>10} {'redis cpu ms/job':>16} {'teardown s':>10}")
        for r in range(args.repeat):
            order = ("ours", "raw") if r % 2 == 0 else ("raw", "ours")
            for side in order:
                result = getattr(sides, side)(args.jobs)
                results[side].append(result)
                e, d, t = result.rates()
                print(f"{r + 1:>6} {side:5} {fmt_rate(e):>10} {fmt_rate(d):>9} {fmt_rate(t):>12} "
                      f"{result.cpu_s / result.n * 1e3:10.2f} {result.redis_cpu_s / result.n * 1e3:16.3f} "
                      f"{result.teardown_s:10.3f}", flush=True)

        med = {side: [median([res.rates()[k] for res in rs]) for k in range(3)] for side, rs in results.items()}
        paired = [median([o.rates()[k] / w.rates()[k] for o, w in zip(results["ours"], results["raw"])])
                  for k in range(3)]
        cpu = {side: median([res.cpu_s / res.n * 1e3 for res in rs]) for side, rs in results.items()}
        rcpu = {side: median([res.redis_cpu_s / res.n * 1e3 for res in rs]) for side, rs in results.items()}
        print()
        print(f"median jobs/s over {args.repeat} repeats ({args.jobs} jobs each); 'paired' = median of the "
              "per-repeat ratios")
        print(f"  {'phase':12} {'ours':>10} {'raw RQ':>10} {'ours/raw':>9} {'paired':>7}")
        for k, phase in enumerate(("enqueue", "drain", "end to end")):
            ratio = med["ours"][k] / med["raw"][k]
            print(f"  {phase:12} {fmt_rate(med['ours'][k]):>10} {fmt_rate(med['raw'][k]):>10} {ratio:9.2f} "
                  f"{paired[k]:7.2f}")
        print(f"  CPU per job (median): this process {cpu['ours']:.2f} ms ours vs {cpu['raw']:.2f} ms raw "
              f"(ratio raw/ours {cpu['raw'] / cpu['ours']:.2f}); redis-server {rcpu['ours']:.3f} vs {rcpu['raw']:.3f} ms")
        ratio = med["ours"][2] / med["raw"][2]
        print(f"end-to-end ratio ours/raw = {ratio:.2f} from the median rates, {paired[2]:.2f} as the median of the "
              f"per-repeat pairs: {verdict(ratio, paired[2], 0.8)}")
        per_job_ours = 1e3 / med["ours"][2]
        per_job_raw = 1e3 / med["raw"][2]
        print(f"per job end to end: ours {per_job_ours:.2f} ms, raw {per_job_raw:.2f} ms "
              f"(our layer adds {per_job_ours - per_job_raw:.2f} ms/job)")
        print(f"load average at the end: {load_average()}")

        if not args.no_census:
            print()
            print("census (200 jobs per side, SimpleWorker, untimed): per-job SQL statements and Redis commands")
            for line in census(sides):
                print(line)
        if args.profile:
            print()
            print(f"profile ({args.jobs} jobs per side, SimpleWorker, untimed): wall-clock and CPU timers around "
                  "the functions below, then cProfile")
            for line in profile(sides, args.jobs):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
