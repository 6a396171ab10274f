from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "studyapp.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
