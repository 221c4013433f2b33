
import django.db.models.deletion
from django.db import migrations, models


# Production lines become master data beside the products that point at them, and the
# planning review leaves for its own app (planning 0001). Both moves change Django's
# state only: the tables, columns, constraints and rows stay exactly as they are.


class Migration(migrations.Migration):

    dependencies = [
        ('coordination', '0007_idempotency_keys'),
        ('production', '0005_recompute_run_heartbeat'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='cycledecision',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='cycledecision',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='cycledecision',
                    name='line',
                ),
                migrations.RemoveField(
                    model_name='cycledecision',
                    name='owner',
                ),
                migrations.RemoveField(
                    model_name='cycledecision',
                    name='product',
                ),
                migrations.RemoveField(
                    model_name='cycledecision',
                    name='promotion',
                ),
                migrations.RemoveField(
                    model_name='cyclesignoff',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='cyclesignoff',
                    name='signed_by',
                ),
                migrations.RemoveField(
                    model_name='cyclesignoff',
                    name='snapshot',
                ),
                migrations.RemoveField(
                    model_name='planningcycle',
                    name='closed_by',
                ),
                migrations.RemoveField(
                    model_name='planningcycle',
                    name='opened_by',
                ),
                migrations.RemoveField(
                    model_name='planningcycle',
                    name='previous',
                ),
                migrations.RemoveField(
                    model_name='planningscenario',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='planningsnapshot',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='planningscenario',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='planningscenario',
                    name='line',
                ),
                migrations.RemoveField(
                    model_name='planningsnapshot',
                    name='taken_by',
                ),
                migrations.CreateModel(
                    name='Line',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80, unique=True)),
                        ('weekly_capacity_hours', models.DecimalField(decimal_places=1, help_text='Hours available in a normal week.', max_digits=8)),
                        ('frozen_window_weeks', models.PositiveSmallIntegerField(default=2, help_text='Weeks from now in which accepted quotas are kept by every recompute.')),
                        ('version', models.PositiveIntegerField(default=1, editable=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'production_line',
                        'ordering': ['name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('weekly_capacity_hours__gte', 0)), name='line_capacity_not_negative'), models.CheckConstraint(condition=models.Q(('frozen_window_weeks__lte', 26)), name='line_frozen_window_at_most_26')],
                    },
                ),
                migrations.AlterField(
                    model_name='product',
                    name='production_line',
                    field=models.ForeignKey(blank=True, help_text='The line this product is made on. Products without one are not planned.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='products', to='coordination.line'),
                ),
                migrations.DeleteModel(
                    name='CycleAdjustment',
                ),
                migrations.DeleteModel(
                    name='CycleDecision',
                ),
                migrations.DeleteModel(
                    name='CycleSignOff',
                ),
                migrations.DeleteModel(
                    name='PlanningCycle',
                ),
                migrations.DeleteModel(
                    name='PlanningScenario',
                ),
                migrations.DeleteModel(
                    name='PlanningSnapshot',
                ),
            ],
            database_operations=[],
        ),
    ]
