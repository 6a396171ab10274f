from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "studyapp.api"
    label = "api"
    verbose_name = "REST API"
