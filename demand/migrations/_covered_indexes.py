"""Dropping a foreign key's own index, and only the index.

AlterField(db_index=False) would drop the foreign key constraint and add it again, which
checks every row of the table once more under an exclusive lock: on a large company's
forecasts and recommendations that is a long pause for nothing. These operations change
the migration state the same way and drop (or, reversed, create) the index alone."""

from __future__ import annotations

from django.db import migrations, models


def own_index_dropped(app_label: str, model_name: str, field_name: str, to: str, related_name: str):
    """The operation for the ForeignKey `field_name` (on_delete CASCADE) to `to`: as it
    is after, db_index=False."""
    field = models.ForeignKey(
        to, on_delete=models.CASCADE, related_name=related_name, db_index=False
    )

    def drop(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        column = model._meta.get_field(field_name).column
        for name in schema_editor._constraint_names(
            model, [column], index=True, unique=False, primary_key=False
        ):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))

    def create(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        indexed = model._meta.get_field(field_name).clone()
        indexed.db_index = True
        indexed.set_attributes_from_name(field_name)
        indexed.model = model
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[indexed]))

    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(model_name=model_name, name=field_name, field=field)
        ],
        database_operations=[migrations.RunPython(drop, create)],
    )
