"""Make-up days recorded before they named a weekday run the timetable of their own weekday,
or Monday's when they fall on a weekend (the common case of 调休)."""

from django.db import migrations


def name_weekdays(apps, schema_editor):
    TermCalendarDay = apps.get_model("schools", "TermCalendarDay")
    for day in TermCalendarDay.objects.filter(kind="makeup", runs_as_weekday__isnull=True):
        weekday = day.date.isoweekday()
        day.runs_as_weekday = weekday if weekday <= 5 else 1
        day.save(update_fields=["runs_as_weekday"])


class Migration(migrations.Migration):

    dependencies = [
        ("schools", "0004_calendar_makeup_weekday"),
    ]

    operations = [
        migrations.RunPython(name_weekdays, migrations.RunPython.noop),
    ]
