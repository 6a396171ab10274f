from django.db import models


class ProviderResponse(models.Model):
    """A cached provider answer, keyed by a hash of (provider, model, operation, input).

    Kept in the database, not Redis: a re-run after Redis lost everything still costs zero tokens.
    """

    key = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=128)
    operation = models.CharField(max_length=32)
    output = models.JSONField()
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "model", "operation"])]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.operation} {self.key[:12]}"


class KnownEndpoint(models.Model):
    """What an OpenAI-compatible endpoint (base URL and model) was found to accept.

    Learnt when the server refuses a request's structured-output format or token parameter
    (studyapp.ai.providers.output_modes), and shared by every worker, so the negotiation costs one
    refused request per endpoint, not one per job. Re-learnt after a while, in case the server changed.
    """

    endpoint = models.CharField(max_length=400, unique=True)
    output_mode = models.CharField(max_length=32)
    token_parameter = models.CharField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.output_mode}, {self.token_parameter}"
