"""The production set-up as files describe it: compose services, their commands, and Django's
deployment checks under the production settings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_compose_describes_the_production_services():
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker-alerts", "worker", "beat"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "gunicorn config.wsgi:application" in _command(services["web"])
    assert "migrate" in _command(services["web"])
    assert "celery -A config worker" in _command(services["worker"])
    assert "celery -A config beat" in _command(services["beat"])
    # A worker reserved for alerts; the general one takes them first, then everything else.
    assert "-Q alerts " in _command(services["worker-alerts"])
    assert "-Q alerts,notices,bulk,celery " in _command(services["worker"])
    for name in ("web", "worker-alerts", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert set(services[name]["depends_on"]) == {"postgres", "redis"}


def test_dockerfile_serves_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM python:3.11")
    assert "collectstatic" in dockerfile and "gunicorn" in dockerfile


def _production_check(**overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in {"TEST_DB_NAME", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "kehou.example.cn",
        "DATABASE_URL": "postgres://kehou:secret@127.0.0.1:5432/kehou",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp+tls://user:pw@smtp.example.cn:587",
    })
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deploy_check():
    result = _production_check()
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_has_no_default_secret():
    result = _production_check(SECRET_KEY=None)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
