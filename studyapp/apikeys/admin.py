"""API keys in the admin: who has which key (by prefix), when it was used, and revoking it.

Nothing here can show a secret: only its hash is stored.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from studyapp.apikeys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "owner", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "name", "owner__username")
    readonly_fields = ("owner", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False  # a key is made by its student, who is the only one to see the secret

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request, queryset) -> None:
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{revoked} key(s) revoked.")
