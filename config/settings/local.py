"""Development and the demo: an insecure key unless one is given. DEBUG stays off unless asked
for (DEBUG=1): a visitor of the demo gets the product's own error pages, never Django's debug
pages with its settings and stack. Static files are served from the source folders."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="local-only-insecure-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "0.0.0.0"])
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
