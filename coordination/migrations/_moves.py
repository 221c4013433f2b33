"""Helpers for migrations that move a model to another app without touching its table.

Not a migration (the loader skips modules starting with "_"). A moved model keeps its
rows, its table and its primary keys; what has to follow it is its content type, which
permissions, activity events, notices and recompute requests point at. Renaming the
content type row keeps every one of those links, so nothing is orphaned or duplicated.
"""

from django.db import migrations


def _rename(apps, source: str, target: str, models: tuple[str, ...]) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in models:
        if ContentType.objects.filter(app_label=target, model=model).exists():
            continue  # created by a post_migrate run in between: keep both, lose nothing
        ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types(source: str, target: str, *models: str) -> migrations.RunPython:
    """A reversible operation renaming the content types of `models` from app `source`
    to app `target`."""

    def forward(apps, schema_editor):
        _rename(apps, source, target, models)

    def backward(apps, schema_editor):
        _rename(apps, target, source, models)

    return migrations.RunPython(forward, backward, elidable=False)
