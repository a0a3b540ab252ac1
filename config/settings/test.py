import tempfile

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="test-only-insecure-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = env("TEST_SMS_BACKEND", default="notifications.channels.LocmemSMSBackend")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Parallel runs on one server (several checkouts, several developers) each take their own
# test database.
if env("TEST_DB_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME")}  # noqa: F405

# Tasks run in-process in tests; the outbox tests start real workers on Redis themselves (in
# processes of their own for the fault tests, which set TEST_REAL_WORKER=1).
CELERY_TASK_ALWAYS_EAGER = not env.bool("TEST_REAL_WORKER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Queues of this run's own, so a real-worker test never takes another run's messages.
# A worker the test starts in a process of its own is given the same prefix.
_QUEUE_PREFIX = env("TEST_QUEUE_PREFIX", default="") or \
    f"kehou-test-{env('TEST_DB_NAME', default='') or 'default'}-{__import__('os').getpid()}"
CELERY_TASK_DEFAULT_QUEUE = _QUEUE_PREFIX
NOTIFICATION_QUEUES = {u: f"{_QUEUE_PREFIX}-{u}" for u in ("alert", "notice", "bulk")}
CELERY_TASK_ROUTES = {task: {"queue": NOTIFICATION_QUEUES["alert"]}  # noqa: F405
                      for task in CELERY_TASK_ROUTES}  # noqa: F405
# Sign-in failures are counted in a cache of this process's own: runs sharing a Redis never
# lock each other out, and a test clears it without touching anything else.
CACHES = {**CACHES, "login-throttle": {  # noqa: F405
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "login-throttle"}}
LOGIN_THROTTLE_CACHE = "login-throttle"
# Static files come from the finders; no collectstatic run is needed for the tests.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# A run's uploads (evidence, roster files) go to folders of its own, not the checkout's var/.
MEDIA_ROOT = tempfile.mkdtemp(prefix="kehou-test-media-")
PRIVATE_MEDIA_ROOT = tempfile.mkdtemp(prefix="kehou-test-private-")
