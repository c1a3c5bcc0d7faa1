"""The demo, on the embedded default (SQLite, no servers): the demo auditor's export verifies."""

import json
import shutil
import zipfile

from lending.tests.test_settings import BARE_ENV, python

SOURCES = ["--source", "events", "--source", "users", "--source", "cards", "--source", "loans"]


def test_demo_auditor_exports_the_demo_history_and_verify_export_accepts_it(tmp_path, bank, faceid):
    env = {
        **BARE_ENV,
        **bank.environment(),  # seed_demo binds the demo card at the sandbox bank
        **faceid.env(),  # and files a lost-phone request through the face check
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "AUDIT_EXPORT_DIR": str(tmp_path / "exports"),
    }
    for command in (["migrate", "-v", "0"], ["seed_demo"]):
        result = python("manage.py", *command, env=env)
        assert result.returncode == 0, result.stderr
    out = tmp_path / "demo-export.zip"
    exported = python("manage.py", "export_audit", "--as", "auditor", "--output", str(out), *SOURCES, env=env)
    assert exported.returncode == 0, exported.stderr

    verified = python("manage.py", "verify_export", str(out), env=env)
    assert verified.returncode == 0 and verified.stdout.startswith("OK: 4 files"), verified.stderr
    archive = zipfile.ZipFile(out)
    manifest = json.loads(archive.read("manifest.json"))["payload"]
    assert {file["name"]: file["rows"] > 0 for file in manifest["files"]} == {
        "events.csv": True,
        "users.csv": True,
        "cards.csv": True,
        "loans.csv": True,
    }
    users = archive.read("users.csv").decode("utf-8-sig")
    assert "138****8000" in users and "13800138000" not in users  # the demo borrower, masked

    # One byte changed in a copy: refused.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as copy:
        for name in archive.namelist():
            data = archive.read(name)
            copy.writestr(name, data.replace(b"card.bound", b"card.BOUND") if name == "events.csv" else data)
    refused = python("manage.py", "verify_export", str(tampered), env=env)
    assert refused.returncode == 1 and "events.csv: content differs" in refused.stderr


def test_exports_read_from_the_replica_when_one_is_configured(tmp_path, bank, faceid):
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {
        **BARE_ENV,
        **bank.environment(),
        **faceid.env(),
        "DATABASE_URL": f"sqlite:///{primary}",
        "AUDIT_EXPORT_DIR": str(tmp_path / "exports"),
    }
    assert python("manage.py", "migrate", "-v", "0", env=env).returncode == 0
    shutil.copy(primary, replica)  # a replica that has not caught up with the demo data yet
    env["DATABASE_REPLICA_URL"] = f"sqlite:///{replica}"
    assert python("manage.py", "seed_demo", env=env).returncode == 0

    out = tmp_path / "export.zip"
    result = python("manage.py", "export_audit", "--as", "auditor", "--output", str(out), env=env)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))["payload"]
    assert manifest["files"] == [{**manifest["files"][0], "name": "events.csv", "rows": 0}]
