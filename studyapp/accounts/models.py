from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A student (or staff). The plan raises the priority tier of the student's jobs."""

    class Plan(models.TextChoices):
        FREE = "free", "Free"
        PRO = "pro", "Pro"

    plan = models.CharField(max_length=8, choices=Plan.choices, default=Plan.FREE)
