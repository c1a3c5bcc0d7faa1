"""Settings boot in a fresh interpreter with exactly the environment each test gives."""

import json
import os
import secrets
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from lending import settings as project_settings

BASE_DIR = Path(__file__).resolve().parents[2]
ANOTHER_FERNET_KEY = "ksWbjz-4Phf5uGEkI9EpgRWIdrIdYHCLpCrgNHHjD1s="
BARE_ENV = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "LANG": "C.UTF-8"}

PRINT_SETTINGS = """
import json, django
from django.conf import settings as s
django.setup()
print(json.dumps({
    "engine": s.DATABASES["default"]["ENGINE"], "debug": s.DEBUG, "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "email": s.EMAIL_BACKEND, "sms": s.SMS_BACKEND, "bank": s.BANK_GATEWAY, "tz": s.TIME_ZONE,
    "language": s.LANGUAGE_CODE, "languages": [code for code, _ in s.LANGUAGES],
}))
"""


@cache
def platform_keys() -> tuple[Path, Path]:
    """A key pair of the platform's for the bank channel, made once for the module."""
    from tests.bank_server import key_pair

    return key_pair(Path(tempfile.mkdtemp(prefix="platform-keys-")), "platform")


def production_env(**overrides):
    private, public = platform_keys()
    env = {
        **BARE_ENV,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        "PII_HMAC_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "loans.example.cn",
        "DATABASE_URL": "postgres://lending:secret@db.internal:5432/lending",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
        "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.cn:587",
        "BANK_HTTP_URL": "https://bank.example.cn",
        "BANK_PLATFORM_PRIVATE_KEY": str(private),
        "BANK_PUBLIC_KEY": str(public),  # any public key will do for booting
        "FACEID_SECRET_ID": "AKID" + secrets.token_hex(16),
        "FACEID_SECRET_KEY": secrets.token_urlsafe(24),
        "FACEID_RULE_ID": "7",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def python(*args, env):
    return subprocess.run(
        [sys.executable, *args],
        env={**env, "DJANGO_SETTINGS_MODULE": "lending.settings"},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_no_environment_gives_the_embedded_default():
    result = python("-c", PRINT_SETTINGS, env=BARE_ENV)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "engine": "django.db.backends.sqlite3",
        "debug": True,
        "eager": True,
        "email": "django.core.mail.backends.console.EmailBackend",
        "sms": "accounts.sms.DevelopmentBackend",
        "bank": "cards.gateways.http.HttpBankGateway",
        "tz": "Asia/Shanghai",
        "language": "zh-hans",
        "languages": ["zh-hans", "en"],
    }


def test_production_environment_switches_to_the_real_services():
    result = python("-c", PRINT_SETTINGS, env=production_env())
    assert result.returncode == 0, result.stderr
    booted = json.loads(result.stdout)
    assert (booted["engine"], booted["debug"], booted["eager"]) == (
        "django.db.backends.postgresql",
        False,
        False,
    )
    assert booted["email"] == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "PII_HMAC_KEY"])
def test_production_refuses_to_start_without_a_key(name):
    result = python("manage.py", "check", env=production_env(**{name: None}))
    assert result.returncode != 0
    assert f"{name} must be set" in result.stderr


@pytest.mark.parametrize(
    "name, value",
    [
        ("DJANGO_SECRET_KEY", project_settings.DEV_SECRET_KEY),
        ("PII_HMAC_KEY", project_settings.DEV_PII_HMAC_KEY),
        ("FIELD_ENCRYPTION_KEYS", project_settings.DEV_FIELD_ENCRYPTION_KEY),
        (
            "FIELD_ENCRYPTION_KEYS",
            f"{ANOTHER_FERNET_KEY},{project_settings.DEV_FIELD_ENCRYPTION_KEY}",
        ),
    ],
)
def test_production_refuses_development_keys(name, value):
    result = python("manage.py", "check", env=production_env(**{name: value}))
    assert result.returncode != 0
    assert f"{name}" in result.stderr and "development key" in result.stderr


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("DJANGO_SECRET_KEY", "short-but-real", "at least 50"),
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key", "must be Fernet keys"),
    ],
)
def test_production_refuses_weak_or_malformed_keys(name, value, message):
    result = python("manage.py", "check", env=production_env(**{name: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_a_production_environment():
    result = python("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {"BANK_PLATFORM_PRIVATE_KEY": project_settings.DEV_BANK_PLATFORM_PRIVATE_KEY},
            "is the development key",
        ),
        (
            {"BANK_PLATFORM_PRIVATE_KEY": Path(project_settings.DEV_BANK_PLATFORM_PRIVATE_KEY).read_text()},
            "is the development key",
        ),
        ({"BANK_PLATFORM_PRIVATE_KEY": None}, "BANK_PLATFORM_PRIVATE_KEY must be set"),
        ({"BANK_PUBLIC_KEY": None}, "BANK_PUBLIC_KEY must be set"),
        ({"BANK_HTTP_URL": None}, "BANK_HTTP_URL must be set"),
        ({"BANK_PLATFORM_PRIVATE_KEY": "not a key"}, "not a readable PEM private key"),
        ({}, None),
    ],
)
def test_production_with_the_http_bank_needs_its_url_and_real_keys(overrides, message):
    result = python("manage.py", "check", env=production_env(**overrides))
    if message is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0 and message in result.stderr


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"FACEID_SECRET_ID": None}, "FACEID_SECRET_ID must be set"),
        ({"FACEID_SECRET_KEY": None}, "FACEID_SECRET_KEY must be set"),
        ({"FACEID_RULE_ID": None}, "FACEID_RULE_ID must be set"),
        ({"FACEID_SECRET_KEY": project_settings.DEV_FACEID_SECRET_KEY}, "is the development key"),
        ({}, None),
    ],
)
def test_production_needs_the_identity_providers_credentials(overrides, message):
    result = python("manage.py", "check", env=production_env(**overrides))
    if message is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0 and message in result.stderr


def test_production_reaches_faceid_over_https_by_default():
    script = "import django; from django.conf import settings as s; django.setup(); print(s.FACEID_ENDPOINT)"
    result = python("-c", script, env=production_env())
    assert result.stdout.strip() == "https://faceid.tencentcloudapi.com", result.stderr


@pytest.mark.parametrize(("switch", "options"), [(None, True), ("true", True), ("false", False)])
def test_postgresql_prepares_queries_unless_a_pooler_needs_them_unprepared(switch, options):
    script = "import json, django\nfrom django.conf import settings as s\ndjango.setup()\n"
    script += 'print(json.dumps(s.DATABASES["default"].get("OPTIONS", {})))'
    result = python("-c", script, env=production_env(DATABASE_PREPARED=switch))
    assert result.returncode == 0, result.stderr
    expected = {"server_side_binding": True, "prepare_threshold": 2} if options else {}
    assert json.loads(result.stdout) == expected
