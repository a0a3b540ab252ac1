from django.db import migrations

# Teacher pay's rules, held by the database whatever writes to it (R12, DESIGN.md: published
# payrolls are never rewritten, only corrected by new entries):
# - a pay rate is a version: never changed or erased (billing_append_only, from 0002);
# - a published payroll is never erased, and only its payment (the entry and the bank's
#   reference) may be filled in, once; a draft changes freely (it is recomputed);
# - the lines of a published payroll are never added to, changed or erased; a draft's lines
#   are replaced when the draft is recomputed.
FORWARD = """
CREATE TRIGGER billing_payrate_append_only BEFORE UPDATE OR DELETE ON billing_payrate
    FOR EACH ROW EXECUTE FUNCTION billing_append_only();

CREATE OR REPLACE FUNCTION billing_payroll_kept() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'published' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a published payroll is never deleted';
    END IF;
    IF OLD.paid_entry_id IS NOT NULL
       OR (to_jsonb(NEW) - 'paid_entry_id' - 'paid_reference')
          IS DISTINCT FROM (to_jsonb(OLD) - 'paid_entry_id' - 'paid_reference') THEN
        RAISE EXCEPTION 'a published payroll is never rewritten (only its payment, once)';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_payroll_kept BEFORE UPDATE OR DELETE ON billing_payroll
    FOR EACH ROW EXECUTE FUNCTION billing_payroll_kept();

CREATE OR REPLACE FUNCTION billing_payroll_line_kept() RETURNS trigger AS $$
DECLARE
    payrolls bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        payrolls := ARRAY[NEW.payroll_id];
    ELSIF TG_OP = 'UPDATE' THEN
        payrolls := ARRAY[OLD.payroll_id, NEW.payroll_id];
    ELSE
        payrolls := ARRAY[OLD.payroll_id];
    END IF;
    IF EXISTS (SELECT 1 FROM billing_payroll
               WHERE id = ANY(payrolls) AND status = 'published') THEN
        RAISE EXCEPTION 'a published payroll''s lines are never changed (% refused)', TG_OP;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_payrollline_kept BEFORE INSERT OR UPDATE OR DELETE ON billing_payrollline
    FOR EACH ROW EXECUTE FUNCTION billing_payroll_line_kept();
"""

REVERSE = """
DROP TRIGGER IF EXISTS billing_payrollline_kept ON billing_payrollline;
DROP TRIGGER IF EXISTS billing_payroll_kept ON billing_payroll;
DROP TRIGGER IF EXISTS billing_payrate_append_only ON billing_payrate;
DROP FUNCTION IF EXISTS billing_payroll_line_kept();
DROP FUNCTION IF EXISTS billing_payroll_kept();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_payroll")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
