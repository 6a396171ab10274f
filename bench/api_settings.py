"""bench/api.py's gunicorn settings: the project's own, with bench/api_urls.py as the URLconf."""

from studyapp.settings import *  # noqa: F401,F403

ROOT_URLCONF = "api_urls"
