from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "studyapp.quizzes"
    label = "quizzes"
    verbose_name = "Quizzes"
