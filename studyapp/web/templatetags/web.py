"""Template helpers of the web UI."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def poll_every() -> str:
    """The hx-trigger of a live partial: poll at the configured interval."""
    return f"every {settings.WEB_POLL_INTERVAL_MS}ms"


@register.filter
def filesize(size: int | None) -> str:
    if not size:
        return ""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)
