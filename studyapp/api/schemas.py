"""Schema pieces every router uses: path ids, strict request bodies, enum fields from model choices."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.db.models import TextChoices
from ninja import Path, Schema
from pydantic import ConfigDict, model_validator

MAX_ID = 2**63 - 1

# A number the database can hold; any other value in the path is a 404, like an unknown id.
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


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
