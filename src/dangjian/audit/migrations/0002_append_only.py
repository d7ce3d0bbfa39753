"""The database refuses to change or delete audit events, not only the application.

An UPDATE may only clear the account (ON DELETE SET NULL when an account is deleted: the username stays) or
change nothing; any other UPDATE, and on PostgreSQL any DELETE, is refused. SQLite keeps DELETE open because
Django empties tables with DELETE (tests, restoring over an existing database); there the database file itself is
the boundary (mode 0600). TRUNCATE on PostgreSQL needs the table's owner.
"""

from __future__ import annotations

from django.db import migrations

COLUMNS = ["id", "at", "username", "address", "action", "target", "detail"]

SQLITE_UNCHANGED = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in COLUMNS)
SQLITE_FORWARD = [
    f"""CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON audit_auditevent
    WHEN NOT ({SQLITE_UNCHANGED} AND (NEW.actor_id IS OLD.actor_id OR NEW.actor_id IS NULL))
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS audit_auditevent_no_update"]

PG_CHANGED = " OR ".join(f'NEW."{c}" IS DISTINCT FROM OLD."{c}"' for c in COLUMNS)
PG_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit log is append-only: DELETE refused';
        END IF;
        IF {PG_CHANGED} OR (NEW.actor_id IS DISTINCT FROM OLD.actor_id AND NEW.actor_id IS NOT NULL) THEN
            RAISE EXCEPTION 'audit log is append-only: UPDATE refused';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql""",
    # EXECUTE PROCEDURE (not FUNCTION) also runs on PostgreSQL 10 and the compatible domestic databases.
    """CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE PROCEDURE audit_auditevent_append_only()""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_auditevent_append_only()",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        ),
    ]
