from django.contrib import admin
from django.urls import include, path

from jobs.views import metrics

admin.site.site_header = "studyapp administration"
admin.site.site_title = "studyapp"

urlpatterns = [
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="metrics"),  # Prometheus (staff or METRICS_TOKEN)
    path("", include("studyapp.web.urls")),  # the student web UI
]
