"""bench/handoff.py's server: the local settings, DEBUG off, and the benchmark's URLs (the
product's, plus a bare endpoint for comparison)."""

from config.settings.local import *  # noqa: F401,F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.server.urls"
# As in production (config/settings/production.py): connections are kept between requests.
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
