"""bench/api.py's URLs: the project's, plus /bench/ping, the baseline (a trivial view, no auth, no database)."""

from django.http import JsonResponse
from django.urls import path

from studyapp.urls import urlpatterns as project_urls


def ping(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/ping", ping), *project_urls]
