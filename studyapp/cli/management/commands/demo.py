"""manage.py demo: the demo account (printed) for a local run. Idempotent."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or refresh the demo account (a staff superuser for local runs) and print its login."

    def handle(self, *args, **options):
        user, created = get_user_model().objects.get_or_create(username=settings.DEMO_USERNAME)
        user.is_staff = user.is_superuser = True
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        verb = "created" if created else "refreshed"
        self.stdout.write(f"demo account {verb}: username {settings.DEMO_USERNAME!r}, password {settings.DEMO_PASSWORD!r}")
