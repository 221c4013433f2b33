"""A lot (or a whole production week without a lot code) is recorded once per product
and incident.

Databases where the same lot was recorded more than once are tidied first: a row equal
in every field to an earlier one is the same fact recorded again and is deleted; a row
that differs (other units, another best-before) is kept for a person to review, its lot
code marked with its id so both can be told apart."""

from django.db import migrations, models


def _tidy_duplicate_lots(apps, schema_editor):
    AffectedLot = apps.get_model("recalls", "AffectedLot")
    seen: dict[tuple, list] = {}
    for lot in AffectedLot.objects.order_by("id"):
        key = (lot.incident_id, lot.product_id, lot.lot_code or lot.production_week)
        facts = (lot.lot_code, lot.production_week, lot.best_before, lot.units)
        earlier = seen.setdefault(key, [])
        if facts in earlier:
            lot.delete()
        elif earlier:
            earlier.append(facts)
            base = lot.lot_code or f"week {lot.production_week:%G-W%V}"
            lot.lot_code = f"{base[:30]} (#{lot.pk})"
            lot.save(update_fields=["lot_code"])
        else:
            earlier.append(facts)


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0006_planning_cycles"),
        ("recalls", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_tidy_duplicate_lots, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="affectedlot",
            constraint=models.UniqueConstraint(
                condition=models.Q(("lot_code", ""), _negated=True),
                fields=("incident", "product", "lot_code"),
                name="lot_code_once_per_product",
            ),
        ),
        migrations.AddConstraint(
            model_name="affectedlot",
            constraint=models.UniqueConstraint(
                condition=models.Q(("lot_code", "")),
                fields=("incident", "product", "production_week"),
                name="lot_week_once_per_product",
            ),
        ),
    ]
