import tempfile

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="test-only-insecure-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "notifications.channels.LocmemSMSBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Parallel runs on one server (several checkouts, several developers) each take their own
# test database.
if env("TEST_DB_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_DB_NAME")}  # noqa: F405

# Tasks run in-process in tests; the outbox test starts a real worker on Redis itself.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# A queue of this run's own, so a real-worker test never takes another run's messages.
CELERY_TASK_DEFAULT_QUEUE = f"kehou-test-{env('TEST_DB_NAME', default='') or 'default'}-" \
    f"{__import__('os').getpid()}"
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
