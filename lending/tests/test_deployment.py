"""No Docker engine runs here: check the compose file names real entry points instead."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

from lending.celery import app as celery_app

BASE_DIR = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def command_of(service) -> str:
    command = COMPOSE["services"][service]["command"]
    return command if isinstance(command, str) else " ".join(command)


def import_object(dotted: str):
    module, _, attribute = dotted.partition(":")
    return getattr(importlib.import_module(module), attribute)


def test_the_stack_has_every_service():
    assert set(COMPOSE["services"]) == {
        "postgres",
        "redis",
        "web",
        "worker",
        "beat",
        "bank-keys",
        "bank",
        "faceid",
    }


def test_the_identity_simulator_checks_the_keys_the_platform_signs_with():
    command = command_of("faceid")
    assert command.startswith("python -m sandboxes.faceid ")
    port = re.search(r"--port (\d+)", command).group(1)
    simulator = COMPOSE["services"]["faceid"]["environment"]
    for service in ("web", "worker", "beat"):
        environment = COMPOSE["services"][service]["environment"]
        assert environment["FACEID_ENDPOINT"] == f"http://faceid:{port}"
        for name in ("FACEID_SECRET_ID", "FACEID_SECRET_KEY", "FACEID_RULE_ID"):
            assert environment[name] == simulator[name], name


def test_the_sandbox_bank_runs_as_its_own_server_that_the_platform_reaches_over_http():
    from django.urls import resolve

    command = command_of("bank")
    assert command.startswith("python -m sandboxes.bank ")
    options = dict(re.findall(r"--([\w-]+) (\S+)", command))
    notify = re.fullmatch(r"http://web:8000(/.*)", options["notify-url"]).group(1)
    assert resolve(notify).url_name == "bank_notices"
    keys_dir = command_of("bank-keys").split()[-1]
    assert options["platform-public-key"] == f"{keys_dir}/platform_public.pem"
    for service in ("web", "worker", "beat"):
        environment = COMPOSE["services"][service]["environment"]
        assert environment["BANK_HTTP_URL"] == f"http://bank:{options['port']}"
        assert environment["BANK_PLATFORM_PRIVATE_KEY"] == f"{keys_dir}/platform_private.pem"
        assert environment["BANK_PUBLIC_KEY"] == f"{options['data-dir']}/bank_public.pem"
        assert COMPOSE["services"][service]["depends_on"]["bank"]["condition"] == "service_healthy"


def test_web_migrates_then_serves_the_wsgi_application():
    command = command_of("web")
    assert command.index("manage.py migrate") < command.index("gunicorn")
    target = re.search(r"gunicorn (\S+)", command).group(1)
    assert callable(import_object(target))
    assert target == f"{settings.WSGI_APPLICATION.rsplit('.', 1)[0]}:application"


def test_worker_and_beat_run_the_project_celery_app():
    for service, subcommand in (("worker", "worker"), ("beat", "beat")):
        command = command_of(service)
        app_name = re.search(r"celery -A (\S+) (\w+)", command)
        assert app_name.group(2) == subcommand
        assert importlib.import_module(app_name.group(1)).celery_app is celery_app


def test_app_services_get_the_production_keys_and_the_real_backends():
    for service in ("web", "worker", "beat"):
        environment = COMPOSE["services"][service]["environment"]
        assert environment["DJANGO_DEBUG"] == "false"
        for name in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "PII_HMAC_KEY"):
            assert environment[name].startswith(f"${{{name}:?")  # required, never a default
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://")


def test_every_variable_compose_sets_is_documented_in_settings():
    documented = importlib.import_module("lending.settings").__doc__
    for service in ("web", "worker", "beat"):
        for name in COMPOSE["services"][service]["environment"]:
            assert name in documented, name


def test_the_dockerfile_installs_the_pinned_requirements_and_serves_wsgi():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "lending.wsgi:application" in dockerfile
    assert "USER lending" in dockerfile


def test_the_wsgi_worker_freezes_what_it_loaded_out_of_the_collectors_sight():
    """Full collections would otherwise walk every loaded module's objects (lending/wsgi.py)."""
    probe = (
        "import gc, lending.wsgi\n"
        "from lending import urls\n"
        "print(gc.get_freeze_count() > 50_000, any(o is urls.urlpatterns for o in gc.get_objects()))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lending.settings_test"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
