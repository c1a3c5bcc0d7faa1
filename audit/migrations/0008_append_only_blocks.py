"""On PostgreSQL, sealed blocks are append-only too (the checkpoint files guard against a superuser)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_block_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditblock is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_block_append_only
    BEFORE UPDATE OR DELETE ON audit_auditblock
    FOR EACH ROW EXECUTE FUNCTION audit_block_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_block_append_only ON audit_auditblock;
DROP FUNCTION IF EXISTS audit_block_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_sealed_blocks")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
