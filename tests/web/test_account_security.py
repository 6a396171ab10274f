"""Account security: failed sign-ins are limited per account and per address on both login pages,
passwords follow Django's validators (no all-digit password, none containing the username), and the
django-rq dashboard needs a permission, not only staff status."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from tests.web.helpers import Html

pytestmark = pytest.mark.django_db

LOGIN_PAGES = {"web": ("web:login", "alice"), "admin": ("admin:login", "root")}


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password="root-password-1")


def sign_in(client, page: str, username: str, password: str):
    return client.post(reverse(page), {"username": username, "password": password}, REMOTE_ADDR="203.0.113.7")


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("which", LOGIN_PAGES)
def test_repeated_wrong_passwords_lock_the_account_even_for_the_right_one(client, alice, root, settings, which):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
    page, username = LOGIN_PAGES[which]
    for _ in range(5):
        response = sign_in(client, page, username, "wrong-password")
        assert response.status_code == 200 and not signed_in(client)

    response = sign_in(client, page, username, f"{username}-password-1")

    assert response.status_code == 200 and not signed_in(client)
    assert "Too many failed sign-in attempts for this account" in Html(response.content.decode()).text
    assert "try again in about 15 minutes" in Html(response.content.decode()).text


@pytest.mark.parametrize("which", LOGIN_PAGES)
def test_the_lockout_ends_by_itself(client, alice, root, settings, which):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "2 per 2 seconds"
    page, username = LOGIN_PAGES[which]
    for _ in range(2):
        sign_in(client, page, username, "wrong-password")
    assert sign_in(client, page, username, f"{username}-password-1").status_code == 200  # refused

    deadline = time.monotonic() + 10
    while not signed_in(client):
        assert time.monotonic() < deadline, "the lockout did not end"
        time.sleep(0.2)
        sign_in(client, page, username, f"{username}-password-1")


def test_one_address_trying_many_accounts_is_limited_too(client, alice, bob, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = "4 per 15 minutes"
    for name in ("alice", "bob", "carol", "dave"):
        sign_in(client, "web:login", name, "wrong-password")
    response = sign_in(client, "web:login", "bob", "bob-password-1")
    assert not signed_in(client)
    assert "from your network address" in Html(response.content.decode()).text
    # Another address is not held back by it.
    response = client.post(reverse("web:login"), {"username": "bob", "password": "bob-password-1"},
                           REMOTE_ADDR="198.51.100.9")
    assert signed_in(client)


def test_a_right_password_before_the_limit_signs_in(client, alice):
    for _ in range(3):
        sign_in(client, "web:login", "alice", "wrong-password")
    sign_in(client, "web:login", "alice", "alice-password-1")
    assert signed_in(client)


@pytest.mark.parametrize("password,reason", [
    ("98127634", "This password is entirely numeric."),
    ("carol-studies-2026", "Your password must not contain your username."),
    ("password123", "This password is too common."),
])
def test_weak_passwords_are_refused_at_sign_up(client, password, reason, django_user_model):
    response = client.post(reverse("web:signup"), {"username": "carol", "password1": password, "password2": password})
    assert response.status_code == 200 and reason in Html(response.content.decode()).text
    assert not django_user_model.objects.filter(username="carol").exists()


@pytest.mark.parametrize("path", ["/admin/rq/", "/admin/rq/queues/0/empty/", "/admin/rq/queues/0/requeue-all/"])
def test_the_queue_dashboard_needs_a_permission_not_only_staff(client, django_user_model, root, path):
    clerk = django_user_model.objects.create_user("clerk", password="clerk-password-1", is_staff=True)
    client.force_login(clerk)
    assert client.get(path).status_code == 403

    from django.contrib.auth.models import Permission

    clerk.user_permissions.add(Permission.objects.get(codename="change_jobrun"))
    clerk = django_user_model.objects.get(pk=clerk.pk)  # a fresh permission cache
    client.force_login(clerk)
    assert client.get(path).status_code == 200
    client.force_login(root)
    assert client.get(path).status_code == 200


def test_the_queue_dashboard_sends_anonymous_visitors_to_the_admin_login(client):
    response = client.get("/admin/rq/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
