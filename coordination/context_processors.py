from django.conf import settings

from coordination import navigation as nav
from coordination import roles


def navigation(request):
    # Every money figure on a page says its currency; the holding rate lines fall back to.
    money = {
        "currency": settings.CURRENCY,
        "holding_rate_default": settings.HOLDING_COST_RATE_PERCENT,
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": [], **money}
    return {"nav_items": nav.items_for(user), "user_roles": roles.role_names(user), **money}
