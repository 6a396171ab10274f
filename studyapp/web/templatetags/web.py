"""Template helpers of the web UI."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from studyapp.web.forms import size_text

register = template.Library()


@register.simple_tag
def poll_every() -> str:
    """The hx-trigger of a live partial: poll at the configured interval."""
    return f"every {settings.WEB_POLL_INTERVAL_MS}ms"


@register.filter
def filesize(size: int | None) -> str:
    return size_text(size) if size else ""


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)


@register.filter
def ago(moment: datetime | None) -> str:
    """ "just now", "5 minutes ago", "2 days ago": the largest unit only."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment).split(',')[0]} ago"
