"""The bank now runs as its own server with its own database (sandboxes/bank/): the tables the
in-process sandbox bank kept in the platform's database go, with their migration records."""

from django.db import migrations

TABLES = ["sandbox_bank_bankdebit", "sandbox_bank_bankbinding", "sandbox_bank_bankagreement", "sandbox_bank_bankaccount"]


class Migration(migrations.Migration):
    dependencies = [("lending", "0004_debit_attempt_sent_again")]

    operations = [
        migrations.RunSQL(
            [f"DROP TABLE IF EXISTS {table}" for table in TABLES]
            + ["DELETE FROM django_migrations WHERE app = 'sandbox_bank'"],
            reverse_sql=migrations.RunSQL.noop,
        )
    ]
