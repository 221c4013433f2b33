"""Optimistic locking for human edits: every editable model has a `version` column."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from coordination.errors import StaleEditError

M = TypeVar("M", bound=models.Model)


def lock_for_edit(queryset: models.QuerySet[M], pk, expected_version: int | None) -> M:
    """Lock the row for this transaction and check nobody changed it since it was read.

    `expected_version` None skips the check (used by system actions, never by forms).
    Only the edited row is locked (`of=("self",)`), so the queryset may select_related
    nullable relations: PostgreSQL refuses FOR UPDATE on the nullable side of a join."""
    obj = queryset.select_for_update(of=("self",)).get(pk=pk)
    if expected_version is not None and obj.version != int(expected_version):
        raise StaleEditError(obj)
    return obj


def save_new_version(obj: models.Model, fields: list[str]) -> None:
    """Save the changed fields and bump the version (the row is locked, so no race)."""
    obj.version += 1
    update_fields = {*fields, "version"}
    if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
        update_fields.add("updated_at")
    obj.save(update_fields=sorted(update_fields))
