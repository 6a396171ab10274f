"""The settings area's URLs (under /settings/, in the web UI's `web` namespace): API keys, webhooks."""

from django.urls import path

from studyapp.web.views import account_settings as views

urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("keys/", views.api_keys, name="api_keys"),
    path("keys/<int:pk>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/rotate/", views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook_delete"),
    path("webhooks/<int:pk>/deliveries/", views.webhook_deliveries, name="webhook_deliveries"),
]
