"""Study halls written before they recorded their grade take the grade of their members (each
was built from one grade's children)."""

from django.db import migrations
from django.db.models import Min


def fill_grades(apps, schema_editor):
    TemporaryClass = apps.get_model("scheduling", "TemporaryClass")
    halls = (TemporaryClass.objects.filter(kind="study_hall", grade__isnull=True)
             .annotate(g=Min("placements__student__grade__number")))
    for hall in halls:
        if hall.g is not None:
            TemporaryClass.objects.filter(pk=hall.pk).update(grade=hall.g)


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0002_study_hall_grade"),
    ]

    operations = [
        migrations.RunPython(fill_grades, migrations.RunPython.noop),
    ]
