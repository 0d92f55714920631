"""The runtime promises: health check, production settings, SQLite tuning."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_django(code, **environment):
    """Run `code` in a fresh interpreter with Django set up under the given environment."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        **environment,
    }
    script = f"import django; django.setup()\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.django_db
def test_healthz_answers_without_login(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_does_not_answer():
    # A real PostgreSQL address where nothing listens: the check must fail fast and say so.
    result = run_django(
        "from django.test import Client\n"
        "response = Client().get('/healthz/', secure=True)\n"
        "print(response.status_code, response.content.decode())",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable",
        ALLOWED_HOSTS="testserver",
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}


def test_production_settings_pass_the_deployment_checklist():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env={"PATH": os.environ["PATH"], "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "sla.example.com"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_sign_anything_without_a_secret_key():
    result = run_django(
        "from django.test import Client\nClient().get('/accounts/login/', secure=True)",
        SECRET_KEY="",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL="sqlite://:memory:",
    )
    assert result.returncode != 0
    assert "The SECRET_KEY setting must not be empty" in result.stderr


def test_the_deployment_checklist_fails_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env={"PATH": os.environ["PATH"], "ALLOWED_HOSTS": "sla.example.com"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_production_defaults_are_safe():
    result = run_django(
        "from django.conf import settings\n"
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
        " settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS > 0)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True"]


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-specific tuning; this run uses " + connection.vendor)
    settings_dict = connection.settings_dict
    assert settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert settings_dict["OPTIONS"]["timeout"] >= 5
    # An in-memory test database cannot use WAL, so check a file database as `make run` would.
    result = run_django(
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('PRAGMA journal_mode'); print(cursor.fetchone()[0])",
        DATABASE_URL=f"sqlite:///{tmp_path / 'wal-check.sqlite3'}",
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"


def test_postgres_connections_are_health_checked():
    result = run_django(
        "from django.conf import settings\nprint(settings.DATABASES['default']['CONN_HEALTH_CHECKS'])",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/sla_portal",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.django_db
def test_pages_need_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_login_page_renders_for_anonymous_users(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
