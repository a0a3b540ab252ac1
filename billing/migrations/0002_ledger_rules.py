from django.db import migrations

# The ledger's rules, held by the database whatever writes to it:
# - an entry's debits equal its credits, and it has at least two lines: checked at commit
#   (a deferred constraint trigger), so the lines of one entry are inserted one by one;
# - a posted entry, line or charge is never changed or erased; a receipt is never erased, and
#   only its fiscal e-receipt code and number may be filled in, once.
# (TRUNCATE, an operator's act that test databases use to reset, is left to permissions.)
APPEND_ONLY = ["billing_journalentry", "billing_journalline", "billing_charge"]

FORWARD = """
CREATE OR REPLACE FUNCTION billing_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION billing_entry_balanced() RETURNS trigger AS $$
DECLARE
    entry bigint;
    lines integer;
    debits numeric;
    credits numeric;
BEGIN
    IF TG_TABLE_NAME = 'billing_journalentry' THEN
        entry := NEW.id;
    ELSE
        entry := NEW.entry_id;
    END IF;
    SELECT count(*), coalesce(sum(debit), 0), coalesce(sum(credit), 0)
      INTO lines, debits, credits FROM billing_journalline WHERE entry_id = entry;
    IF lines < 2 OR debits <> credits THEN
        RAISE EXCEPTION 'journal entry % is unbalanced: % line(s), debits %, credits %',
            entry, lines, debits, credits USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER billing_journalline_balanced
    AFTER INSERT ON billing_journalline DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_entry_balanced();
CREATE CONSTRAINT TRIGGER billing_journalentry_balanced
    AFTER INSERT ON billing_journalentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_entry_balanced();

CREATE OR REPLACE FUNCTION billing_receipt_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a receipt is never deleted (void it)';
    END IF;
    IF OLD.fiscal_code <> '' OR OLD.fiscal_number <> ''
       OR (to_jsonb(NEW) - 'fiscal_code' - 'fiscal_number')
          IS DISTINCT FROM (to_jsonb(OLD) - 'fiscal_code' - 'fiscal_number') THEN
        RAISE EXCEPTION 'a receipt is never edited (only its fiscal e-receipt, once)';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_payment_kept BEFORE UPDATE OR DELETE ON billing_payment
    FOR EACH ROW EXECUTE FUNCTION billing_receipt_kept();
""" + "".join(f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION billing_append_only();
""" for table in APPEND_ONLY)

REVERSE = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n"
                  for table in APPEND_ONLY) + """
DROP TRIGGER IF EXISTS billing_payment_kept ON billing_payment;
DROP TRIGGER IF EXISTS billing_journalline_balanced ON billing_journalline;
DROP TRIGGER IF EXISTS billing_journalentry_balanced ON billing_journalentry;
DROP FUNCTION IF EXISTS billing_receipt_kept();
DROP FUNCTION IF EXISTS billing_entry_balanced();
DROP FUNCTION IF EXISTS billing_append_only();
"""

class Migration(migrations.Migration):
    dependencies = [("billing", "0001_ledger")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
