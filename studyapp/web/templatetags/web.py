"""Template helpers of the web UI."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from studyapp.quizzes.selectors import review_due_count
from studyapp.web.forms import size_text

register = template.Library()
BLANK = re.compile(r"_{3,}")


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


@register.simple_tag(takes_context=True)
def reviews_due(context) -> int:
    """How many of the student's questions are due for review today (the nav's count)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    return review_due_count(student=user)


@register.filter(needs_autoescape=True)
def blanks(prompt: str, autoescape: bool = True) -> str:
    """A fill-in-the-blank prompt with each "_____" drawn as a blank that screen readers call "blank"."""
    text = conditional_escape(prompt) if autoescape else prompt
    return mark_safe(BLANK.sub('<span class="blank"><span class="visually-hidden">blank</span></span>', str(text)))


@register.filter
def percent_of(part: float, whole: float) -> int:
    return round(100 * part / whole) if whole else 0


@register.filter
def card_heading(on: str) -> str:
    """The heading level of a quiz card where it sits: the quiz page (h2), a document page (h3),
    the quizzes page under its document's heading (h4)."""
    return {"page": "h2", "list": "h4"}.get(on, "h3")
