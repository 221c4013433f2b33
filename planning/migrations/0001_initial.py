
import coordination.weeks
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from coordination.migrations._moves import move_content_types


# The planning review's models, moved from coordination (coordination 0008) with their
# tables (coordination_planningcycle, ...): Django's state only, every row stays. Their
# content types are renamed so permissions and activity on cycles are kept.
class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('coordination', '0008_line_in_planning_out'),
        ('demand', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PlanningCycle',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(help_text='e.g. “December 2026”.', max_length=80)),
                        ('period_start', models.DateField(help_text='First day of the period the cycle plans.')),
                        ('period_end', models.DateField(help_text='Last day of the period.')),
                        ('status', models.CharField(choices=[('preparing', 'Preparing'), ('in_review', 'In review'), ('agreed', 'Agreed'), ('closed', 'Closed')], db_index=True, default='preparing', max_length=12)),
                        ('opened_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('review_started_at', models.DateTimeField(blank=True, null=True)),
                        ('agreed_at', models.DateTimeField(blank=True, null=True)),
                        ('closed_at', models.DateTimeField(blank=True, null=True)),
                        ('version', models.PositiveIntegerField(default=1, editable=False)),
                        ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('opened_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('previous', models.ForeignKey(blank=True, help_text='The cycle before: its open action items carry over.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='next_cycles', to='planning.planningcycle')),
                    ],
                    options={
                        'db_table': 'coordination_planningcycle',
                        'ordering': ['-period_start'],
                        'permissions': [('manage_planning_cycle', 'Can open, refresh and close planning cycles'), ('sign_demand', 'Can sign off the demand of a planning cycle (Marketing)'), ('sign_supply', 'Can sign off the supply of a planning cycle (Production)'), ('sign_orders', 'Can sign off the firm orders of a planning cycle (Sales)'), ('record_cycle_decision', 'Can record decisions and action items of a cycle'), ('run_planning_scenario', 'Can try capacity changes as what-if scenarios')],
                    },
                ),
                migrations.CreateModel(
                    name='CycleDecision',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('decision', 'Decision'), ('action', 'Action item')], default='decision', max_length=8)),
                        ('text', models.TextField()),
                        ('department', models.CharField(choices=[('marketing', 'Marketing'), ('sales', 'Sales'), ('production', 'Production'), ('quality', 'Quality')], max_length=12)),
                        ('due_date', models.DateField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('open', 'Open'), ('done', 'Done'), ('dropped', 'Dropped')], db_index=True, default='open', max_length=8)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('version', models.PositiveIntegerField(default=1, editable=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('line', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='coordination.line')),
                        ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cycle_actions', to=settings.AUTH_USER_MODEL)),
                        ('product', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='coordination.product')),
                        ('promotion', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='demand.promotion')),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='decisions', to='planning.planningcycle')),
                    ],
                    options={
                        'db_table': 'coordination_cycledecision',
                        'ordering': ['cycle', 'kind', 'due_date', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='CycleAdjustment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('part', models.CharField(choices=[('demand', 'Demand (Marketing)'), ('supply', 'Supply (Production)'), ('orders', 'Firm orders and key commitments (Sales)')], max_length=8)),
                        ('month', models.DateField(help_text='First day of the month adjusted.')),
                        ('amount', models.IntegerField(help_text="Added to the snapshot's figure (negative lowers it): units of demand or firm orders, hours of capacity for supply.")),
                        ('reason', models.CharField(max_length=300)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('line', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='coordination.line')),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='adjustments', to='planning.planningcycle')),
                    ],
                    options={
                        'db_table': 'coordination_cycleadjustment',
                        'ordering': ['cycle', 'part', 'month', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='PlanningScenario',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120)),
                        ('first_week', models.DateField(validators=[coordination.weeks.validate_monday])),
                        ('last_week', models.DateField(validators=[coordination.weeks.validate_monday])),
                        ('extra_hours_per_week', models.DecimalField(decimal_places=1, help_text="Added to each week's hours (negative removes).", max_digits=6)),
                        ('result', models.JSONField(help_text='Live and scenario plan per week, and the totals.')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='scenarios', to='planning.planningcycle')),
                        ('line', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='coordination.line')),
                    ],
                    options={
                        'db_table': 'coordination_planningscenario',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='PlanningSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField(help_text='1 for the first snapshot of the cycle.')),
                        ('taken_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('first_week', models.DateField(help_text='Monday of the first week the snapshot covers.')),
                        ('data', models.JSONField(help_text='Every section of the snapshot (see planning/selectors/snapshot.py).')),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='snapshots', to='planning.planningcycle')),
                        ('taken_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'coordination_planningsnapshot',
                        'ordering': ['cycle', '-number'],
                    },
                ),
                migrations.CreateModel(
                    name='CycleSignOff',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('part', models.CharField(choices=[('demand', 'Demand (Marketing)'), ('supply', 'Supply (Production)'), ('orders', 'Firm orders and key commitments (Sales)')], max_length=8)),
                        ('department', models.CharField(choices=[('marketing', 'Marketing'), ('sales', 'Sales'), ('production', 'Production'), ('quality', 'Quality')], max_length=12)),
                        ('signed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('part_hash', models.CharField(max_length=64)),
                        ('note', models.CharField(blank=True, max_length=300)),
                        ('signed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sign_offs', to='planning.planningcycle')),
                        ('snapshot', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='planning.planningsnapshot')),
                    ],
                    options={
                        'db_table': 'coordination_cyclesignoff',
                        'ordering': ['cycle', 'part'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='planningcycle',
                    constraint=models.UniqueConstraint(fields=('period_start',), name='planning_cycle_once_per_period'),
                ),
                migrations.AddConstraint(
                    model_name='planningcycle',
                    constraint=models.CheckConstraint(condition=models.Q(('period_end__gte', models.F('period_start'))), name='planning_cycle_period_ordered'),
                ),
                migrations.AddConstraint(
                    model_name='planningcycle',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status__in', ['agreed', 'closed']), _negated=True), ('agreed_at__isnull', False), _connector='OR'), name='planning_cycle_agreed_has_time'),
                ),
                migrations.AddConstraint(
                    model_name='planningcycle',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('status', 'closed'), _negated=True), ('closed_at__isnull', False), _connector='OR'), name='planning_cycle_closed_has_time'),
                ),
                migrations.AddIndex(
                    model_name='cycledecision',
                    index=models.Index(fields=['owner', 'kind', 'status'], name='coordinatio_owner_i_c2e285_idx'),
                ),
                migrations.AddConstraint(
                    model_name='cycledecision',
                    constraint=models.CheckConstraint(condition=models.Q(('kind', 'decision'), models.Q(('owner__isnull', False), ('due_date__isnull', False)), _connector='OR'), name='cycle_action_has_owner_and_due'),
                ),
                migrations.AddConstraint(
                    model_name='cycledecision',
                    constraint=models.CheckConstraint(condition=models.Q(('kind', 'action'), ('status', 'open'), _connector='OR'), name='cycle_decision_has_no_progress'),
                ),
                migrations.AddConstraint(
                    model_name='cycledecision',
                    constraint=models.CheckConstraint(condition=models.Q(('text', ''), _negated=True), name='cycle_decision_has_text'),
                ),
                migrations.AddConstraint(
                    model_name='cycleadjustment',
                    constraint=models.CheckConstraint(condition=models.Q(('amount', 0), _negated=True), name='cycle_adjustment_not_zero'),
                ),
                migrations.AddConstraint(
                    model_name='cycleadjustment',
                    constraint=models.CheckConstraint(condition=models.Q(('reason', ''), _negated=True), name='cycle_adjustment_has_reason'),
                ),
                migrations.AddConstraint(
                    model_name='cycleadjustment',
                    constraint=models.CheckConstraint(condition=models.Q(('month__day', 1)), name='cycle_adjustment_month_start'),
                ),
                migrations.AddConstraint(
                    model_name='planningscenario',
                    constraint=models.CheckConstraint(condition=models.Q(('last_week__gte', models.F('first_week'))), name='scenario_weeks_ordered'),
                ),
                migrations.AddConstraint(
                    model_name='planningscenario',
                    constraint=models.CheckConstraint(condition=models.Q(('extra_hours_per_week', 0), _negated=True), name='scenario_changes_capacity'),
                ),
                migrations.AddConstraint(
                    model_name='planningsnapshot',
                    constraint=models.UniqueConstraint(fields=('cycle', 'number'), name='planning_snapshot_number'),
                ),
                migrations.AddConstraint(
                    model_name='cyclesignoff',
                    constraint=models.UniqueConstraint(fields=('cycle', 'department'), name='sign_off_once_per_dept'),
                ),
                migrations.AddConstraint(
                    model_name='cyclesignoff',
                    constraint=models.UniqueConstraint(fields=('cycle', 'part'), name='sign_off_once_per_part'),
                ),
            ],
            database_operations=[],
        ),
        move_content_types(
            "coordination",
            "planning",
            "planningcycle",
            "planningsnapshot",
            "cycleadjustment",
            "cyclesignoff",
            "cycledecision",
            "planningscenario",
        ),
    ]
