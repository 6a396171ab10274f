from django.contrib import admin
from django.urls import include, path, re_path

from jobs.views import metrics
from studyapp.api.api import api, unknown_route

admin.site.site_header = "studyapp administration"
admin.site.site_title = "studyapp"

urlpatterns = [
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),  # REST API; docs at /api/docs
    re_path(r"^api/(?P<path>.*)$", unknown_route),
    path("metrics", metrics, name="metrics"),  # Prometheus (staff or METRICS_TOKEN)
    path("", include("studyapp.web.urls")),  # the student web UI
]
