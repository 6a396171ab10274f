"""Page-number pagination with bounds: `?page=2&page_size=50` -> `{items, count}`."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

MAX_PAGE = 100_000  # bounds the OFFSET a client can ask the database for


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description="1-based page number")
        page_size: int = Field(20, ge=1, le=100, description="items per page (at most 100)")

    def __init__(self, **kwargs):
        super().__init__(page_size=20, max_page_size=100, **kwargs)
