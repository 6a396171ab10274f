from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from jobs.views import metrics

admin.site.site_header = "studyapp administration"
admin.site.site_title = "studyapp"

urlpatterns = [
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),  # ops (issue 6): Prometheus
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
