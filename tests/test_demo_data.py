"""The demo's data keeps the rules users are held to: every row of every model passes
its model's validation (field validators, clean(), constraints), so an administrator who
opens a demo row in the admin and saves it is never told the demo broke a rule."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests.tables import PROJECT_APPS

pytestmark = pytest.mark.django_db

ROWS_PER_MODEL = 300  # the big history tables are alike row by row


def test_every_demo_row_passes_its_models_validation():
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    broken = []
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            for row in model._default_manager.all()[:ROWS_PER_MODEL]:
                try:
                    row.full_clean(validate_unique=False)
                except ValidationError as error:
                    broken.append(f"{model._meta.label} {row.pk}: {error.message_dict}")
    assert broken == []
