"""What "nothing was written" means in the API tests: the row count of every table of
Tandem, before and after."""

from __future__ import annotations

from django.apps import apps

PROJECT_APPS = ("coordination", "demand", "production", "recalls", "planning")


def rows() -> dict[str, int]:
    """How many rows every table of Tandem holds."""
    return {
        model._meta.label: model._default_manager.count()
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
    }
