from django.db import migrations

# Waivers, their revocations and postings, subsidies and settlement runs are records: never
# changed or erased (billing_append_only, from 0002). A refund is never erased; only its state
# moves, forwards (created → sent → done | failed, or created → done | failed), with the fields
# that go with it; its payment, amount and number never change.
APPEND_ONLY = ["billing_waiver", "billing_waiverrevocation", "billing_waiverposting",
               "billing_subsidy", "billing_settlement"]

FORWARD = """
CREATE OR REPLACE FUNCTION billing_refund_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a refund is never deleted';
    END IF;
    IF (to_jsonb(NEW) - 'status' - 'reference' - 'failure' - 'closing_entry_id' - 'updated_by_id'
        - 'updated_at')
       IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'reference' - 'failure'
                         - 'closing_entry_id' - 'updated_by_id' - 'updated_at') THEN
        RAISE EXCEPTION 'a refund''s payment, amount and number never change';
    END IF;
    IF NOT ((OLD.status = 'created' AND NEW.status IN ('sent', 'done', 'failed'))
            OR (OLD.status = 'sent' AND NEW.status IN ('done', 'failed'))) THEN
        RAISE EXCEPTION 'a refund moves only forwards (% to % refused)', OLD.status, NEW.status;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_refund_kept BEFORE UPDATE OR DELETE ON billing_refund
    FOR EACH ROW EXECUTE FUNCTION billing_refund_kept();
""" + "".join(f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION billing_append_only();
""" for table in APPEND_ONLY)

REVERSE = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n"
                  for table in APPEND_ONLY) + """
DROP TRIGGER IF EXISTS billing_refund_kept ON billing_refund;
DROP FUNCTION IF EXISTS billing_refund_kept();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_waivers_subsidies_settlement_refunds")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
