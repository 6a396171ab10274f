"""The REST API (django-ninja) under /api/: one Router per domain, all on studyapp.api.api.api."""
