"""studyapp settings: everything comes from environment variables read by strict helpers.

Defaults run on one machine with no configuration: SQLite and media under var/, Redis on
localhost, the offline `local` AI provider. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY,
DEBUG=0, ALLOWED_HOSTS and the AI settings (see docker/.env.example).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url

from studyapp.env import env_bool, env_choice, env_float, env_int, env_list, env_rate, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("STUDYAPP_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "studyapp.core",
    "studyapp.accounts",
    "studyapp.documents",
    "studyapp.cli",
    "studyapp.ai",
    "studyapp.graphs",
    "studyapp.quizzes",
    "studyapp.webhooks",  # ops (issue 6)
    "jobs",
    # --- web UI (issue 4) ---
    "django_htmx",
    "studyapp.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # web UI: request.htmx
]

ROOT_URLCONF = "studyapp.urls"
WSGI_APPLICATION = "studyapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite under var/ unless DATABASE_URL names another database (PostgreSQL in production).
DATABASE_URL = env_url(
    "DATABASE_URL", f"sqlite:///{VAR_DIR / 'studyapp.sqlite3'}", schemes=("sqlite", "postgres", "postgresql")
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Workers and the web server write at the same time: wait for the lock instead of failing,
    # and use WAL so readers never block the writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file (worker processes in tests must share it), one per test process: two test runs on
    # one machine never share a database.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.gettempdir(), f"studyapp-test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "studyapp.accounts.validators.UsernameNotInPasswordValidator"},
]

# --- Security -----------------------------------------------------------------------------------
# Declare HTTPS=1 when the site is served over HTTPS (directly or behind a TLS proxy). With DEBUG off
# that turns on HSTS, the redirect to HTTPS and Secure cookies; each can still be set on its own.
HTTPS = env_bool("HTTPS", False)
_STRICT = HTTPS and not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _STRICT)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _STRICT else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _STRICT)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _STRICT)  # the header allows it; listing needs a submission
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _STRICT)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _STRICT)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sign-in attempts that fail, per account and per client address (counted in Redis by `limits`,
# for both login pages). Over either, sign-in is refused, the right password included, until the
# window has moved on.
LOGIN_FAILURES_PER_ACCOUNT = env_rate("LOGIN_FAILURES_PER_ACCOUNT", "5 per 15 minutes")
LOGIN_FAILURES_PER_ADDRESS = env_rate("LOGIN_FAILURES_PER_ADDRESS", "30 per 15 minutes")
# Content-Security-Policy (django-csp): scripts only from this site; styles also inline (the admin's
# and htmx's style attributes); no framing, plugins or foreign form targets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# --- Web UI (issue 4) --------------------------------------------------------------------------
# Students log in on the web UI; the admin keeps its own login page (admin:login).
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:library"
LOGOUT_REDIRECT_URL = "web:login"
# How often a page asks for the live progress of unfinished runs (HTMX polling).
WEB_POLL_INTERVAL_MS = env_int("WEB_POLL_INTERVAL_MS", 1000, minimum=100)

# --- Uploads ---------------------------------------------------------------------------------
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Redis and RQ ----------------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "redis://localhost:6379/0", schemes=("redis", "rediss", "unix"))

# Queues: one group for CPU work (PDF extraction, OCR) and one for AI work, each with priority
# tiers that a worker reads in order. The names are built from jobs/policies.py's tiers.
JOB_QUEUE_NAMES = [
    "cpu_high", "cpu_default", "cpu_low",
    "ai_high", "ai_default", "ai_low",
]
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600} for name in JOB_QUEUE_NAMES}
RQ = {"WORKER_CLASS": "jobs.worker.Worker", "JOB_CLASS": "rq.job.Job",
      # ops (issue 6): registers the periodic jobs when `manage.py rqscheduler` starts.
      "SCHEDULER_CLASS": "jobs.scheduler.Scheduler"}
RQ_SHOW_ADMIN_LINK = True

# How often a worker looks for runs whose worker died (seconds). RQ's own default is 600.
JOBS_RECOVERY_INTERVAL_S = env_int("JOBS_RECOVERY_INTERVAL_S", 20, minimum=1)
# How often a worker refreshes a running job's liveness in Redis, and how long past that a silent
# job counts as abandoned. Recovery notices a dead worker within interval + grace + recovery interval.
JOBS_HEARTBEAT_INTERVAL_S = env_int("JOBS_HEARTBEAT_INTERVAL_S", 10, minimum=1)
JOBS_HEARTBEAT_GRACE_S = env_int("JOBS_HEARTBEAT_GRACE_S", 30, minimum=2)
# ops (issue 6): a queued run whose job Redis does not have is re-enqueued once it is this old (a
# run is written before its job is enqueued on commit).
JOBS_ENQUEUE_GRACE_S = env_int("JOBS_ENQUEUE_GRACE_S", 30, minimum=1)
# The JobRun row mirrors job.meta at every stage change and at most this often otherwise.
JOBS_DB_PROGRESS_INTERVAL_S = env_float("JOBS_DB_PROGRESS_INTERVAL_S", 1.0, minimum=0.0)

# --- Extraction --------------------------------------------------------------------------------
OCR_ENABLED = env_bool("OCR_ENABLED", True)
OCR_LANGUAGES = env_str("OCR_LANGUAGES", "eng+deu")
# Fan-out (issue 6): a document of more pages than EXTRACT_FANOUT_PAGES is extracted as page ranges
# of EXTRACT_FANOUT_CHUNK pages, run by any free worker in parallel (jobs.fanout); smaller ones in
# one job. Each range reads and parses the file again, so ranges much shorter than ~50 pages cost
# more than they gain (docs/benchmarks.md, fan-out).
EXTRACT_FANOUT_PAGES = env_int("EXTRACT_FANOUT_PAGES", 200, minimum=1)
EXTRACT_FANOUT_CHUNK = env_int("EXTRACT_FANOUT_CHUNK", 100, minimum=1)

# --- AI ----------------------------------------------------------------------------------------
AI_PROVIDER = env_choice("AI_PROVIDER", "local", choices=("local", "openai"))
OPENAI_BASE_URL = env_url("OPENAI_BASE_URL", "https://api.openai.com/v1", schemes=("http", "https"))
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_API_KEY = env_str("OPENAI_API_KEY", "")
# One request may take this long; the SDK itself does not retry (max_retries=0): the job layer
# retries with backoff, so the two never multiply.
OPENAI_TIMEOUT_S = env_float("OPENAI_TIMEOUT_S", 60.0, minimum=1.0)
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 0, minimum=0)
# How the JSON answer is asked for (studyapp/ai/providers/output_modes.py): "auto" negotiates it per
# endpoint (json_schema, then json_object with the schema, then json_object, then plain
# instructions) and remembers what the server took; any other value forces that mode.
OPENAI_OUTPUT_MODE = env_choice("OPENAI_OUTPUT_MODE", "auto",
                                choices=("auto", "json_schema", "json_object_schema", "json_object", "plain"))
# For chat templates that drop the system role (some llama.cpp and Ollama models): the instructions
# are sent at the top of the user message instead.
OPENAI_FOLD_SYSTEM = env_bool("OPENAI_FOLD_SYSTEM", False)
# A provider call that times out, loses its connection or gets a 5xx is tried again inside the
# attempt, up to this many times, with exponential backoff from this base (and jitter).
AI_CALL_RETRIES = env_int("AI_CALL_RETRIES", 2, minimum=0)
AI_CALL_RETRY_BASE_S = env_float("AI_CALL_RETRY_BASE_S", 2.0, minimum=0.0)
# Provider calls for independent chunks of one graph run in parallel, up to this many at once.
# Set it to 1 for a local server that answers one request at a time (llama.cpp with one slot,
# Ollama's default): parallel calls would spend their timeout waiting in its queue.
AI_CONCURRENCY = env_int("AI_CONCURRENCY", 4, minimum=1)
# Shared by all workers (Redis): requests and tokens per minute for the configured provider.
AI_REQUESTS_PER_MINUTE = env_int("AI_REQUESTS_PER_MINUTE", 500, minimum=1)
AI_TOKENS_PER_MINUTE = env_int("AI_TOKENS_PER_MINUTE", 200_000, minimum=1)
# Fairness (issue 6, jobs/fairness.py): per student, at most this many AI jobs (graph, quiz,
# explanation) run at once, and at most this many start per hour; 0 turns a limit off. Keep the
# running cap below the AI pool size (AI_WORKERS), or one student's queue can fill every worker.
AI_MAX_RUNNING_PER_USER = env_int("AI_MAX_RUNNING_PER_USER", 2, minimum=0)
AI_JOBS_PER_HOUR_PER_USER = env_int("AI_JOBS_PER_HOUR_PER_USER", 60, minimum=0)
# An upload runs extraction, then the concept graph (an RQ dependency chain).
PIPELINE_AUTO_GRAPH = env_bool("PIPELINE_AUTO_GRAPH", True)
# A readable graph: at most this many concepts, the most important ones.
GRAPH_MAX_CONCEPTS = env_int("GRAPH_MAX_CONCEPTS", 60, minimum=5)
GRAPH_CONCEPTS_PER_CHUNK = env_int("GRAPH_CONCEPTS_PER_CHUNK", 15, minimum=1)

# --- Quizzes (issue 4) ------------------------------------------------------------------------
# After the graph, an upload writes a quiz with these defaults (an RQ dependency on the graph run).
PIPELINE_AUTO_QUIZ = env_bool("PIPELINE_AUTO_QUIZ", True)
QUIZ_DEFAULT_COUNT = env_int("QUIZ_DEFAULT_COUNT", 10, minimum=1)
QUIZ_DEFAULT_DIFFICULTY = env_choice("QUIZ_DEFAULT_DIFFICULTY", "medium", choices=("easy", "medium", "hard"))
QUIZ_TYPES = ("multiple_choice", "true_false", "fill_in_blank", "short_answer")
QUIZ_DEFAULT_TYPES = env_list("QUIZ_DEFAULT_TYPES", list(QUIZ_TYPES))
if not QUIZ_DEFAULT_TYPES or set(QUIZ_DEFAULT_TYPES) - set(QUIZ_TYPES):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"QUIZ_DEFAULT_TYPES must be a comma-separated list of {', '.join(QUIZ_TYPES)}")

# --- REST API (issue 5) -------------------------------------------------------------------------
# django-ninja under /api/ (docs at /api/docs); per-student API keys live in studyapp.apikeys.
INSTALLED_APPS += ["ninja", "studyapp.apikeys", "studyapp.api"]
# Write requests (POST, DELETE...) per student, counted in Redis by `limits` for all web processes.
API_WRITE_RATE = env_rate("API_WRITE_RATE", "60/minute")

# --- Demo --------------------------------------------------------------------------------------
DEMO_USERNAME = env_str("DEMO_USERNAME", "demo")
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo-password")

# --- ops (issue 6): storage, webhooks, metrics, logs ------------------------------------------
# Uploaded files on S3-compatible storage (AWS, MinIO, Ceph, R2...) when a bucket is named, so
# workers on other machines read them without a shared volume; a local folder otherwise.
# Read into lower-case names (not Django settings): django-storages would take empty AWS_*
# settings as its defaults.
_s3_bucket = env_str("AWS_STORAGE_BUCKET_NAME", "")
_s3_options = {
    "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", ""),  # empty: AWS itself
    "region_name": env_str("AWS_S3_REGION_NAME", ""),
    "access_key": env_str("AWS_ACCESS_KEY_ID", ""),  # empty: boto3's own lookup (env, instance role)
    "secret_key": env_str("AWS_SECRET_ACCESS_KEY", ""),
    "location": env_str("AWS_LOCATION", ""),  # a key prefix inside the bucket
}
if _s3_bucket:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _s3_bucket,
            **{key: value for key, value in _s3_options.items() if value},
            "default_acl": None,  # the bucket's policy decides; uploads are private
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Webhooks never reach loopback, private or link-local addresses unless this is off (it is off
# by default only with DEBUG on, for local receivers); the resolved address is what is checked.
WEBHOOK_BLOCK_PRIVATE_ADDRESSES = env_bool("WEBHOOK_BLOCK_PRIVATE_ADDRESSES", not DEBUG)
WEBHOOK_TIMEOUT_S = env_float("WEBHOOK_TIMEOUT_S", 10.0, minimum=1.0)

# /metrics answers staff sessions, and requests with `Authorization: Bearer <METRICS_TOKEN>`
# when it is set (Prometheus). django-rq's own JSON stats take RQ_API_TOKEN.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
RQ_API_TOKEN = env_str("RQ_API_TOKEN", "")

# Every log line written during a job carries run_id, kind and attempt (jobs.logcontext);
# LOG_FORMAT=json writes one JSON object per line for log collectors.
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", choices=("plain", "json"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"job_context": {"()": "jobs.logcontext.JobContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s%(job)s %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(run_id)s %(kind)s %(attempt)s %(process)d %(message)s",
                 "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"}},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["job_context"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "rq.worker": {"level": env_str("RQ_LOG_LEVEL", "INFO")},
        # One INFO line per provider request is noise; failures are logged by our code.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}
AUTH_USER_MODEL = "accounts.User"
