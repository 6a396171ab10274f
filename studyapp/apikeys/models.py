"""ApiKey: a secret a student's scripts send instead of a session.

Only the SHA-256 of the secret is stored, with a short visible prefix so the student can tell
keys apart. A key is 32 random bytes (256 bits), so a fast hash is enough: nobody can guess a
preimage, and checking a key costs one indexed lookup instead of a slow password hash on every
request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiKey(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the student uses it for, e.g. 'laptop script'")
    prefix = models.CharField(max_length=16, help_text="The first characters of the key, shown to tell keys apart")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        indexes = [models.Index(fields=["owner", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def __repr__(self) -> str:
        return f"<ApiKey {self.pk} {self.prefix}… of user {self.owner_id}>"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
