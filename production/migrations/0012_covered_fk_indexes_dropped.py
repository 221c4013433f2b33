"""A recommendation's product and line need no index of their own: recommendation_once's
(product, week) index and the (line, week) index serve every lookup by product or line,
and each re-plan writes thousands of rows."""

from django.db import migrations

from demand.migrations._covered_indexes import own_index_dropped


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0014_notifications"),
        ("demand", "0009_covered_fk_indexes_dropped"),
        ("production", "0011_recommendation_halo"),
    ]

    operations = [
        own_index_dropped(
            "production", "quotarecommendation", "line", "coordination.line", "recommendations"
        ),
        own_index_dropped(
            "production",
            "quotarecommendation",
            "product",
            "coordination.product",
            "quota_recommendations",
        ),
    ]
