"""Priority tiers by plan: which queue a job lands on (jobs.policies.JobPolicy.tier_for)."""

from __future__ import annotations

import pytest
from rq.job import Job

from jobs.connection import get_redis
from jobs.models import JobRun
from jobs.pipelines import document_upload
from jobs.policies import PERIODIC, POLICIES, TIERS, policy_for
from jobs.submit import submit
from tests.conftest import pdf_path

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pro(django_user_model):
    return django_user_model.objects.create_user("paula", password="paula-password-1", plan="pro")


def upload(owner):
    with pdf_path("pdflatex-4-pages.pdf").open("rb") as fh:
        return document_upload(owner=owner, upload=fh, filename="notes.pdf")


def pipeline_queues(owner) -> dict[str, str]:
    return dict(JobRun.objects.filter(owner=owner).values_list("kind", "queue"))


def test_a_free_students_upload_runs_on_the_default_tiers(alice):
    """Extraction, graph and quiz of a free student: each group's default queue, in Redis too."""
    _, extraction = upload(alice)
    assert pipeline_queues(alice) == {"extract_document": "cpu_default", "generate_graph": "ai_default",
                                      "create_quiz": "ai_default"}
    assert Job.fetch(str(extraction.id), connection=get_redis()).origin == "cpu_default"


def test_a_pro_students_upload_runs_one_tier_up(pro):
    """The same upload by a pro student: every job on its group's high queue."""
    _, extraction = upload(pro)
    assert pipeline_queues(pro) == {"extract_document": "cpu_high", "generate_graph": "ai_high",
                                    "create_quiz": "ai_high"}
    assert Job.fetch(str(extraction.id), connection=get_redis()).origin == "cpu_high"


def test_explanations_are_high_for_everyone(alice, pro):
    """Interactive work: a free student's explanation is as high as a pro's (the subject is any row;
    the queue depends only on the kind and the owner's plan)."""
    free_run = submit("explain_connection", alice, alice, {"source_id": 1, "target_id": 2})
    pro_run = submit("explain_connection", pro, pro, {"source_id": 1, "target_id": 2})
    assert (free_run.queue, pro_run.queue) == ("ai_high", "ai_high")


def test_noop_stays_low_for_pro_and_an_explicit_tier_wins(alice, pro):
    """A fixed-tier kind ignores the plan; `tier=` overrides the plan in both directions."""
    assert submit("noop", pro, pro, {"n": 1}).queue == "cpu_low"
    assert submit("noop", alice, alice, {"n": 2}, tier="high").queue == "cpu_high"
    assert submit("extract_document", pro, pro, tier="low").queue == "cpu_low"


def test_the_rule_for_every_kind():
    """Pro lifts every kind that is not fixed by one tier (capped at high); free and unknown plans
    lift nothing; periodic maintenance is fixed at low."""
    for policy in POLICIES.values():
        base = TIERS.index(policy.tier)
        assert policy.tier_for("free") == policy.tier_for(None) == policy.tier_for("gold") == policy.tier
        expected = policy.tier if policy.fixed_tier else TIERS[max(0, base - 1)]
        assert policy.tier_for("pro") == expected, policy.kind
    assert policy_for("explain_connection").tier_for("free") == "high"
    assert {entry.policy.tier_for("pro") for entry in PERIODIC.values()} == {"low"}
