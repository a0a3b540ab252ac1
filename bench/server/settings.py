"""bench/handoff.py's server: the local settings, DEBUG off, and the benchmark's URLs (the
product's, plus a bare endpoint for comparison)."""

import warnings

from config.settings.local import *  # noqa: F401,F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.server.urls"
# As in production (config/settings/production.py): connections are kept between requests.
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
# As in production: WhiteNoise indexes the static files once at start, instead of looking each
# request's path up on disk (the local settings' autorefresh, for editing CSS). The bench serves
# no static file, so the collected folder production has is not needed, nor its warning.
WHITENOISE_AUTOREFRESH = False
warnings.filterwarnings("ignore", message="No directory at")
