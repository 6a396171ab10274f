from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from studyapp.api.api import api, unknown_route

admin.site.site_header = "studyapp administration"
admin.site.site_title = "studyapp"

urlpatterns = [
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),  # REST API (issue 5); docs at /api/docs
    re_path(r"^api/(?P<path>.*)$", unknown_route),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
