from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("schools", "0005_makeup_days_name_their_weekday"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='termcalendarday',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'makeup'), ('runs_as_weekday__gte', 1), ('runs_as_weekday__lte', 5)), models.Q(models.Q(('kind', 'makeup'), _negated=True), ('runs_as_weekday__isnull', True)), _connector='OR'), name='calendar_day_makeup_names_its_weekday'),
        ),
    ]
