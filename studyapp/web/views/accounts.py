"""Sign up, log in, log out: Django's auth with the web UI's own pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters

from studyapp.web.forms import SignupForm
from studyapp.web.login_throttle import ThrottledAuthenticationForm


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:library")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}. Upload a PDF to start studying it.")
        return redirect("web:library")
    return render(request, "web/auth/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "web/auth/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm  # failed sign-ins are limited


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link or an image cannot log a student out."""
