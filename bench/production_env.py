"""Production settings for a benchmark database: DEBUG off and keys made once per checkout.

The keys live in ``var/bench-keys.json`` (never committed), so a database one script builds
(``bench/seed_scale.py``) can be read by another (``bench/http_load.py --database``).
"""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEYS = ROOT / "var" / "bench-keys.json"


def _keys() -> dict:
    from cryptography.fernet import Fernet

    if not KEYS.exists():
        KEYS.parent.mkdir(parents=True, exist_ok=True)
        keys = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PII_HMAC_KEY": secrets.token_urlsafe(32),
            "AUDIT_SIGNING_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        }
        KEYS.write_text(json.dumps(keys))
    return json.loads(KEYS.read_text())


def environment(database: str, settings: str = "lending.settings") -> dict:
    """This process's environment with production settings on ``database``, a sandbox bank and
    the identity simulator (bench/sandbox_bank.py: started for this process unless BANK_HTTP_URL
    or FACEID_ENDPOINT names one), also set here so ``django.setup()`` in this process uses them."""
    from bench import sandbox_bank

    bank_env = {} if os.environ.get("BANK_HTTP_URL") else sandbox_bank.start()[1]
    faceid_env = {} if os.environ.get("FACEID_ENDPOINT") else sandbox_bank.start_faceid()[1]
    env = {
        **os.environ,
        **_keys(),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CACHE_URL": "redis://127.0.0.1:6379/12",  # as in production: sessions read from Redis
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_PROXY_SSL": "true",  # wrk speaks http; it says the proxy in front had https
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": settings,
        **bank_env,
        **faceid_env,
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    return env


def fresh_database(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def manage(*args, env: dict, debug: bool = False) -> None:
    """``manage.py`` in another process; ``debug`` for seed_demo, which refuses production."""
    env = {**env, "DJANGO_DEBUG": "true" if debug else "false"}
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
