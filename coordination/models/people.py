"""People: Tandem's user and the departments they work for."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """Tandem's user. Roles are groups (see coordination/roles.py)."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.get_full_name() or self.username


class Department(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    PRODUCTION = "production", "Production"
    QUALITY = "quality", "Quality"
