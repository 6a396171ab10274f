from django.apps import AppConfig


class GraphsConfig(AppConfig):
    name = "studyapp.graphs"
    label = "graphs"
    verbose_name = "Concept graphs"
