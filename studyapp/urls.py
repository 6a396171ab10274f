from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "studyapp administration"
admin.site.site_title = "studyapp"

urlpatterns = [
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("", include("studyapp.web.urls")),  # the student web UI
]
