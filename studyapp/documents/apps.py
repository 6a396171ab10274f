from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "studyapp.documents"
    label = "documents"
