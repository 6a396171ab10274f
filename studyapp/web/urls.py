"""The student web UI's URLs (mounted at the site root)."""

from django.urls import include, path

from studyapp.web.views import accounts, documents, jobs, library, quizzes

app_name = "web"

urlpatterns = [
    path("", library.library, name="library"),
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("settings/", include("studyapp.web.settings_urls")),  # API keys and webhooks (issues 5 and 6)
    # documents
    path("documents/<int:pk>/", documents.document_detail, name="document"),
    path("documents/<int:pk>/live/", library.document_live, name="document_live"),
    path("documents/<int:pk>/unlock/", library.document_unlock, name="document_unlock"),
    path("documents/<int:pk>/pages/", documents.document_pages, name="document_pages"),
    path("documents/<int:pk>/pages/by-label/", documents.page_by_label, name="page_by_label"),
    path("documents/<int:pk>/graph/", documents.graph_section, name="graph"),
    path("documents/<int:pk>/concepts/<int:concept_id>/", documents.concept_detail, name="concept"),
    path("documents/<int:pk>/explain/", documents.explain, name="explain"),
    path("documents/<int:pk>/explanations/<int:explanation_id>/", documents.explanation_detail, name="explanation"),
    path("documents/<int:pk>/explain/<uuid:run_id>/", documents.explanation_progress, name="explanation_progress"),
    path("documents/<int:pk>/explain/<uuid:run_id>/retry/", documents.explanation_retry, name="explanation_retry"),
    path("documents/<int:pk>/quizzes/", quizzes.document_quizzes, name="document_quizzes"),
    # quizzes and attempts
    path("quizzes/", quizzes.quiz_list, name="quizzes"),
    path("quizzes/review/", quizzes.review_start, name="review_start"),
    path("quizzes/<int:quiz_id>/", quizzes.quiz_detail, name="quiz"),
    path("quizzes/<int:quiz_id>/card/", quizzes.quiz_card_view, name="quiz_card"),
    path("quizzes/<int:quiz_id>/retry/", quizzes.quiz_retry, name="quiz_retry"),
    path("quizzes/<int:quiz_id>/start/", quizzes.attempt_start, name="attempt_start"),
    path("attempts/<int:attempt_id>/", quizzes.attempt_take, name="attempt"),
    path("attempts/<int:attempt_id>/answer/", quizzes.attempt_answer, name="attempt_answer"),
    path("attempts/<int:attempt_id>/submit/", quizzes.attempt_submit, name="attempt_submit"),
    path("attempts/<int:attempt_id>/finish/", quizzes.attempt_finish, name="attempt_finish"),
    path("attempts/<int:attempt_id>/result/", quizzes.attempt_result, name="attempt_result"),
    path("attempts/<int:attempt_id>/retry/", quizzes.attempt_retry, name="attempt_retry"),
    # jobs
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/requeue/", jobs.jobs_requeue, name="jobs_requeue"),
    path("jobs/discard/", jobs.jobs_discard, name="jobs_discard"),
    path("jobs/<uuid:run_id>/", jobs.job_row, name="job_row"),
    path("jobs/<uuid:run_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<uuid:run_id>/retry/", jobs.job_retry, name="job_retry"),
    path("jobs/<uuid:run_id>/discard/", jobs.job_discard, name="job_discard"),
]
