"""Optimistic locking for human edits: every editable model has a `version` column.

A person's edit always carries the version they saw; a missing or malformed one is a
ValidationError, never a skipped check. Only system actions (demo data, steps a service
takes on its own) pass `UNCHECKED`, which says so where it is used."""

from __future__ import annotations

from typing import Final, TypeVar

from django.core.exceptions import ValidationError
from django.db import models

from coordination.errors import StaleEditError

M = TypeVar("M", bound=models.Model)

MAX_VERSION = 2**63 - 1


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


# Not a person's edit: there is no version anyone saw to compare.
UNCHECKED: Final = _Unchecked()

MISSING_VERSION = "Send the version you read: without it a stale edit would go unnoticed."
MALFORMED_VERSION = "A version is a whole number of at least {minimum}."


def version_number(value, *, field: str = "version", minimum: int = 1) -> int:
    """The version a client sent, as a number. Missing or malformed is a ValidationError
    at `field` (a message at the form field, 400 in the API), never a skipped check."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError({field: MISSING_VERSION}, code="required")
    if isinstance(value, bool | float):
        raise ValidationError({field: MALFORMED_VERSION.format(minimum=minimum)}, code="invalid")
    text = str(value).strip()
    digits = text.removeprefix("-")
    if (
        not (digits.isascii() and digits.isdigit() and len(digits) <= 19)
        or not minimum <= int(text) <= MAX_VERSION
    ):
        raise ValidationError({field: MALFORMED_VERSION.format(minimum=minimum)}, code="invalid")
    return int(text)


def lock_for_edit(queryset: models.QuerySet[M], pk, expected_version) -> M:
    """Lock the row for this transaction and check nobody changed it since it was read.

    `expected_version` is the version the person saw (None or garbage is refused), or
    UNCHECKED for a system action. Only the edited row is locked (`of=("self",)`), so
    the queryset may select_related nullable relations: PostgreSQL refuses FOR UPDATE
    on the nullable side of a join."""
    expected = None if expected_version is UNCHECKED else version_number(expected_version)
    obj = queryset.select_for_update(of=("self",)).get(pk=pk)
    if expected is not None and obj.version != expected:
        raise StaleEditError(obj)
    return obj


def save_new_version(obj: models.Model, fields: list[str]) -> None:
    """Save the changed fields and bump the version (the row is locked, so no race)."""
    obj.version += 1
    update_fields = {*fields, "version"}
    if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
        update_fields.add("updated_at")
    obj.save(update_fields=sorted(update_fields))
