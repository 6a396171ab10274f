from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "studyapp.ai"
    label = "ai"
    verbose_name = "AI"
