"""Writes for API keys: create (the secret is returned once), revoke, and authenticate a request.

The web UI's key page and the REST API both call these. A key looks like `sa_` followed by 43
URL-safe characters; only its SHA-256 and its first characters (`prefix`) are stored, so a key
that is lost cannot be shown again: the student creates a new one and revokes the old.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from studyapp.apikeys.models import ApiKey
from studyapp.apikeys.selectors import api_keys_for_owner
from studyapp.core.errors import Conflict, NotFound, PermanentError

KEY_START = "sa_"
PREFIX_LENGTH = len(KEY_START) + 8
MAX_ACTIVE_KEYS = 20
# last_used_at is refreshed at most this often: a script polling a job many times a second must not
# turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)
_MAX_KEY_LENGTH = 200


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, owner, name: str) -> tuple[ApiKey, str]:
    """Make a new key for `owner`. Returns (key, secret): the secret is never stored or shown again.

    Raises:
        PermanentError: the name is empty.
        Conflict: the owner already has MAX_ACTIVE_KEYS keys that work.
    """
    name = name.strip()
    if not name:
        raise PermanentError("Give the key a name, so you can tell it apart later.")
    with transaction.atomic():
        # Lock the owner's row so two requests at once cannot both pass the count.
        get_user_model().objects.select_for_update().only("pk").get(pk=owner.pk)
        if api_keys_for_owner(owner=owner).count() >= MAX_ACTIVE_KEYS:
            raise Conflict(f"You already have {MAX_ACTIVE_KEYS} API keys; revoke one you no longer use first.")
        secret = KEY_START + secrets.token_urlsafe(32)
        key = ApiKey.objects.create(owner=owner, name=name[:100], prefix=secret[:PREFIX_LENGTH], key_hash=key_hash(secret))
    return key, secret


def api_key_revoke(*, owner, key_id: int) -> ApiKey:
    """Stop the key working at once. Revoking a key twice is harmless.

    Raises:
        NotFound: the owner has no key with that id.
    """
    key = ApiKey.objects.filter(owner=owner, pk=key_id).first()
    if key is None:
        raise NotFound("No such API key.")
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db()
    return key


def api_key_authenticate(*, secret: str) -> ApiKey | None:
    """The active key with this secret (with its owner loaded), or None. Notes when it was used."""
    if not secret.startswith(KEY_START) or len(secret) > _MAX_KEY_LENGTH:
        return None
    try:  # get(), not first(): the hash is unique, and an ORDER BY would only cost time on every request
        key = ApiKey.objects.select_related("owner").get(key_hash=key_hash(secret), revoked_at__isnull=True)
    except ApiKey.DoesNotExist:
        return None
    if not key.owner.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
