"""API keys: list mine, create one (the secret is in that one response only), revoke one.

Creating needs the signed-in web UI (session): a leaked key must not be able to mint the keys that
would outlive its own revocation. Listing and revoking work with a key too.
"""

from datetime import datetime

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from studyapp.api.auth import require_session
from studyapp.api.errors import read_errors, write_errors
from studyapp.api.schemas import InputSchema, ObjectId
from studyapp.apikeys.selectors import api_keys_for_owner
from studyapp.apikeys.services import api_key_create, api_key_revoke

router = Router(tags=["keys"])


class KeyIn(InputSchema):
    name: str = Field(min_length=1, max_length=100, description="what it is for, e.g. 'laptop script'")


class KeyOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None = Field(description="to the minute")


class KeyCreatedOut(KeyOut):
    key: str = Field(description="the secret: shown in this response only, never again")


@router.get("", response={200: list[KeyOut], **read_errors()}, summary="My API keys that work")
def key_list(request):
    return api_keys_for_owner(owner=request.auth)


@router.post("", response={201: KeyCreatedOut, **write_errors(409)}, summary="Create an API key")
def key_create(request, body: KeyIn):
    """Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Needs the signed-in web UI (403 with a
    key); 409 when you already have 20 keys."""
    require_session(request)
    key, secret = api_key_create(owner=request.auth, name=body.name)
    key.key = secret  # type: ignore[attr-defined]  # in this response only
    return Status(201, key)


@router.delete("/{key_id}", response={204: None, **write_errors(404)}, summary="Revoke an API key")
def key_revoke(request, key_id: ObjectId):
    """The key stops working at once. Revoking it again is harmless."""
    api_key_revoke(owner=request.auth, key_id=key_id)
    return Status(204, None)
