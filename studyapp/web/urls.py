"""The student web UI's URLs (mounted at the site root)."""

from django.urls import include, path

from studyapp.web.views import accounts, documents, jobs, library

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
    # jobs
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/requeue/", jobs.jobs_requeue, name="jobs_requeue"),
    path("jobs/discard/", jobs.jobs_discard, name="jobs_discard"),
    path("jobs/<uuid:run_id>/", jobs.job_row, name="job_row"),
    path("jobs/<uuid:run_id>/cancel/", jobs.job_cancel, name="job_cancel"),
    path("jobs/<uuid:run_id>/retry/", jobs.job_retry, name="job_retry"),
    path("jobs/<uuid:run_id>/discard/", jobs.job_discard, name="job_discard"),
]
