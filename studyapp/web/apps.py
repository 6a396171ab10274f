from django.apps import AppConfig


class WebConfig(AppConfig):
    """The student web UI: server-rendered templates, HTMX for the live parts (an interface layer)."""

    name = "studyapp.web"
    label = "web"
