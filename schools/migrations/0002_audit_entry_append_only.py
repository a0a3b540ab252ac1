from django.db import migrations

# The audit trail is evidence: the database itself refuses to rewrite or erase a row of it.
# (TRUNCATE, an operator's act that test databases use to reset, is left to permissions.)
FORWARD = """
CREATE OR REPLACE FUNCTION schools_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'schools_auditentry is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER schools_auditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON schools_auditentry
    FOR EACH ROW EXECUTE FUNCTION schools_auditentry_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS schools_auditentry_no_update_delete ON schools_auditentry;
DROP FUNCTION IF EXISTS schools_auditentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("schools", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
