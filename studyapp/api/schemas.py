"""Schema pieces every router uses: path ids, strict request bodies, enum fields from model choices."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.db.models import TextChoices
from ninja import Path, Schema
from pydantic import BeforeValidator, ConfigDict, Field, model_validator

MAX_ID = 2**63 - 1

# A number the database can hold; any other value in the path is a 404, like an unknown id.
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _json_integer(value: Any) -> Any:
    # JSON Schema's integer is 3 or 3.0; pydantic's lax mode would also take true (as 1) and "3".
    if isinstance(value, (bool, str)):
        raise ValueError("must be a whole number")
    return value


# An integer in a JSON body (path and query values arrive as text and keep pydantic's own parsing).
JsonInt = Annotated[int, BeforeValidator(_json_integer)]


def json_int(*, ge: int, le: int) -> Any:
    """JsonInt within bounds, for optional fields (`json_int(ge=1, le=50) | None`): bounds given to the
    field itself would not reach the schema's integer branch."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_integer)]


def choices(enum: type[TextChoices]) -> Any:
    """A Literal of the model field's values: an inline enum in the schema (model `Status` enums of
    different models would otherwise collide under one component name)."""
    return Literal[tuple(enum.values)]


class InputSchema(Schema):
    """A request body: a JSON object with only the documented fields (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _an_object(cls, data: Any, handler):
        # ninja would otherwise read fields off any JSON value (a list gives all defaults).
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return handler(data)
