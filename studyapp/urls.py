from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import include, path, re_path
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from jobs.views import metrics
from studyapp.api.api import api, unknown_route
from studyapp.web.login_throttle import ThrottledAdminAuthenticationForm

admin.site.site_header = "studyapp administration"
admin.site.site_title = "studyapp"
admin.site.login_form = ThrottledAdminAuthenticationForm  # failed sign-ins are limited

# The queues of every student: staff status alone is not enough to look at or act on them.
QUEUE_PERMISSION = "jobs.change_jobrun"


def queue_operators_only(view):
    """django-rq's own check (staff, else the admin login page) runs inside; a staff member without
    QUEUE_PERMISSION (or superuser) gets 403."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_staff and not user.has_perm(QUEUE_PERMISSION):
            raise PermissionDenied("Managing the job queues needs the permission to change job runs.")
        return view(request, *args, **kwargs)

    return guarded


rq_patterns = get_api_urlpatterns() + get_admin_urlpatterns(view_wrapper=queue_operators_only)

urlpatterns = [
    path("admin/rq/", include((rq_patterns, "django_rq"))),
    path("admin/", admin.site.urls),
    path("api/", api.urls),  # REST API; docs at /api/docs
    re_path(r"^api/(?P<path>.*)$", unknown_route),
    path("metrics", metrics, name="metrics"),  # Prometheus (staff or METRICS_TOKEN)
    path("", include("studyapp.web.urls")),  # the student web UI
]
