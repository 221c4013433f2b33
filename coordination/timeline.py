"""Objects that carry a timeline users can comment on, and who may see each kind.

Each app registers its models in its AppConfig.ready(); the comment view looks the
target up here, so a user can only comment on what they may see."""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

# model label ("app_label.modelname") -> finder(user, pk) returning the object or None
_FINDERS: dict[str, Callable] = {}


def register(model: type[models.Model], finder: Callable) -> None:
    _FINDERS[model._meta.label_lower] = finder


def label_of(obj: models.Model) -> str:
    return obj._meta.label_lower


def find(user, label: str, pk: int) -> models.Model | None:
    finder = _FINDERS.get(label)
    if finder is None:
        return None
    return finder(user, pk)


def permission_finder(model: type[models.Model], permission: str) -> Callable:
    """A finder for objects everyone holding `permission` may see."""

    def finder(user, pk):
        if not user.has_perm(permission):
            return None
        return model.objects.filter(pk=pk).first()

    return finder
