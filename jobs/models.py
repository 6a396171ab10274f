"""JobRun: the database record of one piece of background work.

The database is the truth and Redis is the transport: a JobRun is written in the same transaction
as the change that asked for the work, and its id is the RQ job id.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class JobRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting"  # for a retry, a rate-limit slot or an upstream run
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    UNFINISHED = (Status.QUEUED, Status.RUNNING, Status.WAITING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, db_index=True)
    subject_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="job_runs")
    upstream = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="downstream",
        help_text="The run this one waits for (an RQ dependency).",
    )
    payload = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=255)
    queue = models.CharField(max_length=32)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=120, blank=True)
    percent = models.FloatField(default=0.0)
    message = models.CharField(max_length=500, blank=True)
    progress = models.JSONField(default=dict, blank=True, help_text="Last structured progress, as in job.meta")
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)
    # What operators need and students should not read (e.g. which setting to fix); admin only.
    operator_note = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    usage = models.JSONField(default=dict, blank=True, help_text="e.g. provider tokens")
    worker_name = models.CharField(max_length=255, blank=True)
    # The claim is a lease (jobs/lease.py): the executing process renews the expiry; its writes
    # count only while the row holds its token.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # A failed run an operator looked at and set aside: it stays for the record but leaves the
    # dead-letter view (jobs.control.discard_runs).
    discarded_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Same work asked twice while the first is unfinished: one run (see jobs.submit).
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(status__in=["queued", "running", "waiting"]),
                name="jobrun_unique_unfinished_key",
            ),
        ]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def rq_job_id(self) -> str:
        return str(self.id)

    @property
    def is_dead_letter(self) -> bool:
        """Failed and not yet discarded: shown in the dead-letter view until requeued or discarded."""
        return self.status == self.Status.FAILED and self.discarded_at is None


class UsageDaily(models.Model):
    """Provider tokens per owner and day, rolled up from JobRun.usage by a periodic job.

    JobRuns are deleted after their retention; this table keeps the totals (billing, quotas).
    Each roll-up recomputes whole days from the runs, so running it twice changes nothing.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    runs = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "owner"]
        constraints = [models.UniqueConstraint(fields=["owner", "day"], name="usagedaily_unique_owner_day")]
        verbose_name_plural = "usage per day"

    def __str__(self) -> str:
        return f"{self.owner} {self.day}: {self.prompt_tokens + self.completion_tokens} tokens"


class DeadLetter(JobRun):
    """Failed runs not yet requeued or discarded: the dead-letter view in the admin."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"
        verbose_name_plural = "dead letters"
