FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app

RUN useradd --create-home --uid 1000 kehou
COPY . .
RUN pip install --no-cache-dir .

# Static files are built into the image; whitenoise serves them.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    EMAIL_URL=consolemail:// python manage.py collectstatic --no-input --ignore "vendor/axe-core"

USER kehou
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
