# An incremental schedule pull asks for entries created or superseded after revision N.
# Keeping the superseding revision on the superseded entry makes that two index ranges
# instead of a join over the whole history.

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    ScheduleEntry = apps.get_model("production", "ScheduleEntry")
    ScheduleEntry.objects.filter(superseded_at__isnull=False).update(
        # The superseding entry's revision; the entry's own for a row whose superseding
        # entry is unknown (the services always record it), so the constraint holds.
        superseded_in_id=Coalesce(
            Subquery(
                ScheduleEntry.objects.filter(pk=OuterRef("superseded_by_id")).values(
                    "revision_id"
                )[:1]
            ),
            F("revision_id"),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("production", "0003_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheduleentry",
            name="superseded_in",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="production.schedulerevision",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="scheduleentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("superseded_at__isnull", True), ("superseded_in__isnull", True)),
                    models.Q(("superseded_at__isnull", False), ("superseded_in__isnull", False)),
                    _connector="OR",
                ),
                name="superseded_has_its_revision",
            ),
        ),
    ]
