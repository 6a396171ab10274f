"""What can go wrong talking to an AI provider, classified like every other domain error."""

from studyapp.core.errors import PermanentError, RateLimited, TransientError


class ProviderRateLimited(RateLimited):
    """The provider (429) or our shared limiter said 'not now'."""


class ProviderUnavailable(TransientError):
    """Timeout, connection error or 5xx: worth retrying later."""


class ProviderRejected(PermanentError):
    """400/401/403/404: the request or the configuration is wrong; retrying will not help."""


class ProviderBadOutput(TransientError):
    """The answer could not be parsed into the expected schema, even after repair and one retry."""


class ProviderTruncated(ProviderBadOutput):
    """The answer was cut off at the output-token limit: a failed call, never a result or a cache entry."""


class UnsupportedLanguage(PermanentError):
    """The provider cannot write study material in the document's language."""
