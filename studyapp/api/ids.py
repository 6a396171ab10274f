"""Path ids: a number the database can hold. Any other value is a 404, like an unknown id."""

from __future__ import annotations

from typing import Annotated

from ninja import Path

MAX_ID = 2**63 - 1

ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]
