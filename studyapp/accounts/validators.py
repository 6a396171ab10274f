"""Password rules beyond Django's own validators."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class UsernameNotInPasswordValidator:
    """A password that contains the username is guessed first: refuse it.

    Django's UserAttributeSimilarityValidator compares the whole password with the username, so
    "alice-password-1" passes it for alice; this one looks for the username inside the password.
    """

    def __init__(self, min_length: int = 3):
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        username = (getattr(user, "username", "") or "").strip().lower()
        if len(username) >= self.min_length and username in password.lower():
            raise ValidationError("Your password must not contain your username.", code="password_has_username")

    def get_help_text(self) -> str:
        return "Your password must not contain your username."
