from django.db import migrations

# Which weekdays an enrolment's slots fall on, for the district's figures over a city's
# enrolments (served at all; served all five weekdays, R5): bit n set for weekday n (1 Monday to
# 7 Sunday). The database keeps it, whoever writes the slots (a statement-level trigger on the
# enrolment's slot rows), in a column the models do not declare, so no save() of an enrolment
# read before its slots changed can write an old value back. Read only by
# enrollment.selectors.served_by_day.
MASK = """
ALTER TABLE enrollment_enrolment ADD COLUMN weekday_mask smallint NOT NULL DEFAULT 0;
CREATE OR REPLACE FUNCTION enrollment_enrolment_weekday_mask() RETURNS trigger AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT enrolment_id) INTO changed FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT enrolment_id) INTO changed FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT enrolment_id) INTO changed FROM (
            SELECT enrolment_id FROM old_rows UNION SELECT enrolment_id FROM new_rows) both_rows;
    END IF;
    -- Joined with the changed ids (never "= ANY" over them, which reads the whole array
    -- for each row), so an approval's thousands of slot rows cost one pass.
    UPDATE enrollment_enrolment e SET weekday_mask = COALESCE(m.mask, 0)
    FROM unnest(changed) AS c(id)
    LEFT JOIN (SELECT es.enrolment_id, bit_or(1 << sl.weekday) AS mask
               FROM unnest(changed) AS c2(id)
               JOIN enrollment_enrolment_slots es ON es.enrolment_id = c2.id
               JOIN schools_serviceslot sl ON sl.id = es.serviceslot_id
               GROUP BY es.enrolment_id) m ON m.enrolment_id = c.id
    WHERE e.id = c.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER enrollment_enrolment_slots_mask_insert AFTER INSERT ON enrollment_enrolment_slots
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_enrolment_weekday_mask();
CREATE TRIGGER enrollment_enrolment_slots_mask_delete AFTER DELETE ON enrollment_enrolment_slots
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_enrolment_weekday_mask();
CREATE TRIGGER enrollment_enrolment_slots_mask_update AFTER UPDATE ON enrollment_enrolment_slots
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_enrolment_weekday_mask();
UPDATE enrollment_enrolment e SET weekday_mask = masks.mask FROM (
    SELECT es.enrolment_id, bit_or(1 << sl.weekday) AS mask FROM enrollment_enrolment_slots es
    JOIN schools_serviceslot sl ON sl.id = es.serviceslot_id GROUP BY es.enrolment_id) masks
WHERE masks.enrolment_id = e.id;
"""
UNMASK = """
DROP TRIGGER IF EXISTS enrollment_enrolment_slots_mask_insert ON enrollment_enrolment_slots;
DROP TRIGGER IF EXISTS enrollment_enrolment_slots_mask_delete ON enrollment_enrolment_slots;
DROP TRIGGER IF EXISTS enrollment_enrolment_slots_mask_update ON enrollment_enrolment_slots;
DROP FUNCTION IF EXISTS enrollment_enrolment_weekday_mask();
ALTER TABLE enrollment_enrolment DROP COLUMN IF EXISTS weekday_mask;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('enrollment', '0006_fee_standard'),
    ]

    operations = [migrations.RunSQL(MASK, UNMASK)]
