from django.contrib.auth import get_user_model
from django.db.models import Prefetch

from coordination.roles import ROLES


def people_with_a_role():
    """Active users who hold a role, by name: whom work (a task, an action item) may go to."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def team_by_role() -> list[dict]:
    """Active users grouped by role, in the canonical role order; users without a role last."""
    from django.contrib.auth.models import Group

    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("name")))
        .order_by("last_name", "first_name", "username")
    )
    buckets: dict[str, list] = {role: [] for role in ROLES}
    without_role = []
    for user in users:
        names = [group.name for group in user.groups.all() if group.name in buckets]
        for name in names:
            buckets[name].append(user)
        if not names:
            without_role.append(user)
    groups = [{"role": role, "members": buckets[role]} for role in ROLES]
    groups.append({"role": "No role", "members": without_role})
    return groups
