from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "studyapp.apikeys"
    label = "apikeys"
    verbose_name = "API keys"
