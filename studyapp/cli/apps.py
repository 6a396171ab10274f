from django.apps import AppConfig


class CliConfig(AppConfig):
    """Terminal interface: management commands (process, concepts, demo set-up)."""

    name = "studyapp.cli"
    label = "cli"
