"""Objects that carry a timeline users can comment on, and who may see each kind.

Each app registers its models in its AppConfig.ready(); the comment view looks the
target up here, so a user can only comment on what they may see."""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

# label in the comment URL -> finder(user, pk) returning the object or None
_FINDERS: dict[str, Callable] = {}
# model label ("app_label.modelname") -> its label in the comment URL, where they differ
_URL_LABELS: dict[str, str] = {}


def register(model: type[models.Model], finder: Callable, *, url_label: str = "") -> None:
    """`url_label` keeps the comment URL of a model that moved to another app as it was
    (e.g. "coordination.planningcycle" for planning.PlanningCycle)."""
    label = url_label or model._meta.label_lower
    if url_label:
        _URL_LABELS[model._meta.label_lower] = url_label
    _FINDERS[label] = finder


def label_of(obj: models.Model) -> str:
    """The label the comment URL of `obj`'s timeline carries."""
    return _URL_LABELS.get(obj._meta.label_lower, obj._meta.label_lower)


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
