"""``make run``: the port is a choice, and the beat schedule runs in the embedded mode too."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from celery import beat
from django.conf import settings
from django.db import transaction

from audit.actions import Action
from audit.models import AuditBlock
from audit.services import record
from lending.celery import app as celery_app

BASE_DIR = Path(settings.BASE_DIR)
DEV_RUN = (BASE_DIR / "bin" / "dev-run").read_text()


def test_make_run_passes_its_port_to_the_dev_script():
    alone = {
        name: value for name, value in os.environ.items() if not name.startswith("MAKE")
    }  # not `make test`'s
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "PORT=8011"],
        cwd=BASE_DIR,
        env=alone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert dry_run.strip().splitlines()[-1] == "PORT=8011 bin/dev-run"


def test_the_dev_script_serves_on_the_port_and_links_and_notifies_there():
    assert "PORT=${PORT:-8000}" in DEV_RUN
    assert re.search(r'runserver "127\.0\.0\.1:\$PORT"', DEV_RUN)
    # Officers' emails and seed_demo's printed links use SITE_URL; the bank posts its notices there.
    assert "export SITE_URL=${SITE_URL:-http://127.0.0.1:$PORT}" in DEV_RUN
    assert '--notify-url "$SITE_URL/bank/notices/"' in DEV_RUN


def test_the_dev_script_runs_the_project_beat_schedule():
    started = re.search(r"celery -A (\S+) beat .*&\n", DEV_RUN)
    assert started and started.group(1) == celery_app.main
    assert DEV_RUN.index("celery -A lending beat") < DEV_RUN.index("runserver")


@pytest.mark.django_db(transaction=True)
def test_beat_with_no_broker_runs_a_due_job_in_its_own_process(settings):
    """The embedded mode has no broker: tasks run eagerly, so what beat sends runs in beat itself."""
    settings.AUDIT_SEAL_DELAY_SECONDS = 0
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # what the settings choose when CELERY_BROKER_URL is unset
    try:
        with transaction.atomic():
            record(action=Action.ACCOUNT_FROZEN, actor=None, subject=None, data={})
        celery_app.loader.import_default_modules()  # as `celery beat` does when it starts
        scheduler = beat.Scheduler(celery_app, lazy=False)
        assert set(settings.CELERY_BEAT_SCHEDULE) <= set(scheduler.schedule)
        scheduler.apply_async(scheduler.schedule["audit-seal"])
    finally:
        celery_app.conf.task_always_eager = saved
    assert AuditBlock.objects.count() == 1


def test_the_readme_is_right_for_someone_who_just_cloned_it():
    readme = (BASE_DIR / "README.md").read_text()
    assert "../" not in readme  # nothing outside the repository
    assert "make run PORT=" in readme and "What runs in `make run`" in readme
    # The collection example uses the demo loan's first due date (seed_demo prints it), never a fixed day.
    examples = re.findall(r"run_autodebit --date (\S+)", readme)
    assert examples and set(examples) == {'"$FIRST_DUE"'}
