"""How each kind of background job behaves: the one file an operator reads.

One entry per job kind: which queue group and priority tier it runs on, how long an attempt may
take, how many attempts it gets, how retries back off, what its payload looks like and how long
RQ keeps its result. Backoff is exponential with jitter and honours a retry-after the job reports.

Tiers: a kind's `tier` is where a free student's job goes; each plan raises that by PLAN_RAISE
tiers (pro: default -> high), except for kinds whose tier is fixed (noop, maintenance). Interactive
kinds (explain_connection) are high for everyone already. Workers read high, default, low in that
order (all_queue_names), so a raised job overtakes a queue of lower ones but never interrupts one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from studyapp.documents.sandbox import SandboxLimits

Group = Literal["cpu", "ai"]
Tier = Literal["high", "default", "low"]
TIERS: tuple[Tier, ...] = ("high", "default", "low")  # the order workers read them in

# How many tiers a plan lifts a job above its kind's tier (accounts.User.plan's values).
PLAN_RAISE: dict[str, int] = {"free": 0, "pro": 1}


class Payload(BaseModel):
    """Base of every job payload: strict, so a typo in a field name is an error, not a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtractPayload(Payload):
    """extract_document takes no options: the document (the run's subject) says everything."""


class ExtractPagesPayload(Payload):
    """A page range (0-based, inclusive) of the extract_document run `parent`, which submitted it
    and assembles the document once every range is in (jobs.fanout). Naming the parent keeps the
    key per range: a parent that runs again finds its parts instead of duplicating them."""

    parent: str
    first: int = Field(ge=0)
    last: int = Field(ge=0)


class GraphPayload(Payload):
    """Which provider and model build the graph; submit() fills in the configured defaults, so the
    idempotency key always names them (the graph of document D with provider P and model M)."""

    provider: Literal["local", "openai"]
    model: str


class ExplainPayload(Payload):
    source_id: int
    target_id: int


# --- create_quiz (issue 4) -------------------------------------------------------------------

QuestionTypeName = Literal["multiple_choice", "true_false", "fill_in_blank", "short_answer"]


class QuizPayload(Payload):
    """What was asked: the subject is the Quiz row, which holds the same request; the payload
    names it again so the idempotency key does (the same request twice: the same run)."""

    count: int = Field(ge=1, le=50)
    difficulty: Literal["easy", "medium", "hard"]
    types: tuple[QuestionTypeName, ...] = Field(min_length=1)
    provider: Literal["local", "openai"]
    model: str


class NoopPayload(Payload):
    """A job that does nothing: measures queue overhead and checks that workers answer."""

    n: int = 0


class DeliverWebhookPayload(Payload):
    """deliver_webhook's subject is the WebhookDelivery: it holds the event and the payload."""


@dataclass(frozen=True)
class JobPolicy:
    kind: str
    group: Group
    tier: Tier
    timeout_s: int  # RQ kills an attempt after this long
    max_attempts: int
    backoff_base_s: float
    backoff_cap_s: float
    jitter: float  # 0..1: the share of each delay that is random
    result_ttl_s: int
    failure_ttl_s: int
    payload: type[Payload]
    # A budget the domain service checks between steps, so it stops cleanly (keeping its
    # checkpoints) before RQ's hard timeout.
    time_budget_s: float | None = None
    page_cap: int | None = None
    # How long a finished JobRun row is kept (jobs.maintenance.retention_cleanup); failed runs
    # still in the dead-letter view are kept until an operator requeues or discards them.
    run_retention_days: int = 30
    # True: the tier is the same for every plan (probes and bulk upkeep that nobody waits for).
    fixed_tier: bool = False
    # AI kinds: the most tokens one answer of a remote model may have (the request's max_tokens).
    # An answer cut off there is a failed call, never stored.
    max_output_tokens: int | None = None
    # Kinds that open an uploaded PDF: parsing, rendering and OCR run in a child process with these
    # hard limits (address space above the worker's own, CPU seconds, open files). Two CPU workers
    # at 512 MB each fit a 2-core worker machine with a few GB. A PDF over a limit fails for good.
    sandbox: SandboxLimits | None = None

    def queue_name(self, tier: Tier | None = None) -> str:
        return f"{self.group}_{tier or self.tier}"

    def tier_for(self, plan: str | None) -> Tier:
        """The tier of this kind's jobs for a student on `plan` (an unknown plan raises nothing)."""
        if self.fixed_tier:
            return self.tier
        raised = TIERS.index(self.tier) - PLAN_RAISE.get(plan or "", 0)
        return TIERS[max(0, raised)]

    def backoff_s(self, attempt: int, *, retry_after: float | None = None, rng: random.Random | None = None) -> int:
        """Seconds to wait before attempt `attempt + 1`, after `attempt` attempts failed.

        Exponential (base * 2^(attempt-1)) capped at backoff_cap_s; the last `jitter` share of it is
        random so that many failed jobs do not retry in lockstep. A retry-after reported by the job
        (e.g. a provider's 429) is a lower bound.
        """
        rng = rng or random
        exponential = min(self.backoff_cap_s, self.backoff_base_s * 2 ** max(attempt - 1, 0))
        delay = exponential * (1 - self.jitter) + rng.random() * exponential * self.jitter
        if retry_after:
            delay = max(delay, retry_after)
        return max(1, math.ceil(delay))


DAY = 24 * 3600

POLICIES: dict[str, JobPolicy] = {
    policy.kind: policy
    for policy in (
        JobPolicy(
            kind="extract_document",
            group="cpu",
            tier="default",
            timeout_s=1800,
            max_attempts=4,
            backoff_base_s=5,
            backoff_cap_s=120,
            jitter=0.5,
            result_ttl_s=DAY,
            failure_ttl_s=7 * DAY,
            payload=ExtractPayload,
            time_budget_s=1700,
            page_cap=2000,
            sandbox=SandboxLimits(memory_mb=512, cpu_s=1750, open_files=128),
        ),
        # --- fan-out (issue 6): a big document's extraction runs as page ranges on any worker ---
        JobPolicy(
            kind="extract_pages",
            group="cpu",
            tier="default",  # submitted on the parent's queue (its tier), whatever this says
            timeout_s=900,
            max_attempts=4,  # a transient failure retries this range only
            backoff_base_s=5,
            backoff_cap_s=120,
            jitter=0.5,
            result_ttl_s=DAY,
            failure_ttl_s=7 * DAY,
            payload=ExtractPagesPayload,
            time_budget_s=800,
            page_cap=2000,
            run_retention_days=7,  # the parent run keeps the record
            sandbox=SandboxLimits(memory_mb=512, cpu_s=850, open_files=128),
        ),
        JobPolicy(
            kind="generate_graph",
            group="ai",
            tier="default",
            timeout_s=3600,
            max_attempts=5,
            backoff_base_s=30,
            backoff_cap_s=600,
            jitter=0.5,
            result_ttl_s=DAY,
            failure_ttl_s=7 * DAY,
            payload=GraphPayload,
            max_output_tokens=4096,  # a chunk's concepts and relations, with quotes
        ),
        JobPolicy(
            kind="explain_connection",
            group="ai",
            tier="high",  # interactive: a student is waiting for it
            timeout_s=300,
            max_attempts=3,
            backoff_base_s=5,
            backoff_cap_s=60,
            jitter=0.5,
            result_ttl_s=DAY,
            failure_ttl_s=7 * DAY,
            payload=ExplainPayload,
            max_output_tokens=1500,  # a few sentences and their citations
        ),
        # --- ops: webhooks (issue 6) ---
        JobPolicy(
            kind="deliver_webhook",
            group="cpu",  # a short HTTP request: it must not wait behind long AI jobs
            tier="default",
            timeout_s=60,
            max_attempts=8,  # about an hour of retries: 30 s, 1, 2, 4 ... 30 min
            backoff_base_s=30,
            backoff_cap_s=1800,
            jitter=0.3,
            result_ttl_s=DAY,
            failure_ttl_s=7 * DAY,
            payload=DeliverWebhookPayload,
            run_retention_days=14,
        ),
        JobPolicy(
            kind="create_quiz",
            group="ai",
            tier="default",
            timeout_s=900,
            max_attempts=4,
            backoff_base_s=15,
            backoff_cap_s=300,
            jitter=0.5,
            result_ttl_s=DAY,
            failure_ttl_s=7 * DAY,
            payload=QuizPayload,
            max_output_tokens=4096,  # one batch of questions with options, quotes and explanations
        ),
        JobPolicy(
            kind="noop",
            group="cpu",
            tier="low",
            timeout_s=60,
            max_attempts=1,
            backoff_base_s=1,
            backoff_cap_s=1,
            jitter=0.0,
            result_ttl_s=600,
            failure_ttl_s=DAY,
            payload=NoopPayload,
            fixed_tier=True,
        ),
    )
}


def policy_for(kind: str) -> JobPolicy:
    try:
        return POLICIES[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; known kinds: {', '.join(sorted(POLICIES))}") from None


# --- fairness (issue 6) -------------------------------------------------------------------------
# Runs of these groups are admitted per student (jobs/fairness.py): at most
# settings.AI_MAX_RUNNING_PER_USER of one owner's runs in these groups run at once, and at most
# settings.AI_JOBS_PER_HOUR_PER_USER of them start per hour. A run over either limit goes back to
# waiting without spending an attempt: over the running cap it looks again after
# FAIR_SHARE_RECHECK_S times the owner's waiting runs per slot (each look costs a worker a fork
# and a few queries, so a student with 50 waiting runs must not keep a worker busy looking), at
# most FAIR_SHARE_RECHECK_MAX_S, and up to twice that with jitter so they do not return in a lump;
# over the hourly limit, when the limiter says a slot frees. Every student is treated alike (staff
# too: an operator's bulk rebuild must not starve students either); periodic maintenance is not a
# JobRun and never waits here.
FAIR_SHARE_GROUPS: tuple[Group, ...] = ("ai",)
FAIR_SHARE_RECHECK_S = 5
FAIR_SHARE_RECHECK_MAX_S = 60


def is_fair_shared(kind: str) -> bool:
    return kind in POLICIES and POLICIES[kind].group in FAIR_SHARE_GROUPS


def fair_shared_kinds() -> list[str]:
    return sorted(kind for kind in POLICIES if is_fair_shared(kind))


def all_queue_names() -> list[str]:
    """Every queue in priority order within each group, as workers should read them."""
    return [f"{group}_{tier}" for group in ("cpu", "ai") for tier in TIERS]


# --- ops: maintenance (issue 6) ----------------------------------------------------------------
# Periodic jobs, registered with rq-scheduler when `manage.py rqscheduler` starts (jobs.scheduler).
# They are plain RQ functions (jobs.maintenance), not JobRuns: they have no subject or owner, they
# are idempotent and fired again by the next tick, so a lost or failed tick needs no retry; and the
# reconciler must not depend on the machinery it repairs (a reconcile JobRun lost in a FLUSHALL
# would itself wait for a reconcile). Each tick's outcome is in RQ's registries and the log.
# The same policy fields apply: queue (group + tier), timeout and result TTLs; max_attempts is 1.


@dataclass(frozen=True)
class PeriodicPolicy:
    kind: str
    cron: str  # when it fires, in UTC (crontab syntax)
    policy: JobPolicy


def _maintenance(kind: str, cron: str, timeout_s: int) -> PeriodicPolicy:
    return PeriodicPolicy(kind=kind, cron=cron, policy=JobPolicy(
        kind=kind, group="cpu", tier="low", timeout_s=timeout_s, max_attempts=1, backoff_base_s=1,
        backoff_cap_s=1, jitter=0.0, result_ttl_s=3600, failure_ttl_s=7 * DAY, payload=NoopPayload,
        fixed_tier=True,
    ))


PERIODIC: dict[str, PeriodicPolicy] = {
    entry.kind: entry
    for entry in (
        _maintenance("reconcile", "* * * * *", timeout_s=300),
        _maintenance("retention_cleanup", "17 3 * * *", timeout_s=3600),
        _maintenance("usage_rollup", "5 * * * *", timeout_s=600),
    )
}
