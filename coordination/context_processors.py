from coordination import navigation as nav
from coordination import roles


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    return {"nav_items": nav.items_for(user), "user_roles": roles.role_names(user)}
