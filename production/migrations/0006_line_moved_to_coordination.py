
import django.db.models.deletion
from django.db import migrations, models

from coordination.migrations._moves import move_content_types




def plan_line_to_schedule_entry(apps, schema_editor):
    """`production.plan_line` (accept and override quotas) was declared on Line; it now
    lives on ScheduleEntry, which is what it governs, so it keeps its name and holders."""
    _move_plan_line(apps, "coordination", "line", "production", "scheduleentry")


def plan_line_back_to_line(apps, schema_editor):
    _move_plan_line(apps, "production", "scheduleentry", "coordination", "line")


def _move_plan_line(apps, from_app, from_model, to_app, to_model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    target = ContentType.objects.filter(app_label=to_app, model=to_model).first()
    if target is None or Permission.objects.filter(
        content_type=target, codename="plan_line"
    ).exists():
        return  # a fresh database: post_migrate creates the permission where it belongs
    Permission.objects.filter(
        content_type__app_label=from_app, content_type__model=from_model, codename="plan_line"
    ).update(content_type=target)


# Line moved to coordination (coordination 0008) with its table production_line: here the
# production models' links follow it, in Django's state only; its content type is renamed
# so every permission and generic link to a line is kept.
class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('coordination', '0008_line_in_planning_out'),
        ('production', '0005_recompute_run_heartbeat'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='quotarecommendation',
                    name='line',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='recommendations', to='coordination.line'),
                ),
                migrations.AlterField(
                    model_name='capacityexception',
                    name='line',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='capacity_exceptions', to='coordination.line'),
                ),
                migrations.AlterField(
                    model_name='recomputerun',
                    name='line',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='recompute_runs', to='coordination.line'),
                ),
                migrations.AlterField(
                    model_name='scheduleentry',
                    name='line',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='schedule_entries', to='coordination.line'),
                ),
                migrations.AlterModelOptions(
                    name='scheduleentry',
                    options={'ordering': ['line', 'week', 'product'], 'permissions': [('plan_line', 'Can accept and override quotas on production lines')]},
                ),
                migrations.AlterField(
                    model_name='webhookendpoint',
                    name='lines',
                    field=models.ManyToManyField(blank=True, help_text='Lines it follows; none means every line.', related_name='+', to='coordination.line'),
                ),
                migrations.DeleteModel(
                    name='Line',
                ),
            ],
            database_operations=[],
        ),
        move_content_types("production", "coordination", "line"),
        migrations.RunPython(plan_line_to_schedule_entry, plan_line_back_to_line),
    ]
