"""A forecast's product needs no index of its own: forecast_once_per_week's (product,
week) index serves every lookup by product, and each recompute writes thousands of rows."""

from django.db import migrations

from demand.migrations._covered_indexes import own_index_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0014_notifications"),
        ("demand", "0008_share_prior_fit"),
    ]

    operations = [
        own_index_dropped(
            "demand", "demandforecast", "product", "coordination.product", "forecasts"
        ),
    ]
