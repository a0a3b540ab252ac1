from django.db import migrations

# Roll-call marks, handoffs, refused and conflicting releases are evidence of where a child was
# and who took them: the database itself refuses to rewrite or erase them. A correction is a
# new mark. (TRUNCATE, an operator's act that test databases use to reset, is left to
# permissions.)
TABLES = ["attendance_mark", "attendance_handoff", "attendance_refusal",
          "attendance_handoffconflict"]

FORWARD = """
CREATE OR REPLACE FUNCTION attendance_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
""" + "".join(f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION attendance_append_only();
""" for table in TABLES)

REVERSE = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n"
                  for table in TABLES) + "DROP FUNCTION IF EXISTS attendance_append_only();\n"


class Migration(migrations.Migration):
    dependencies = [("attendance", "0001_sessions_marks_handoffs")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
