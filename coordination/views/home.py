from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static

from coordination import home as home_panels
from coordination.models import EmailKind
from coordination.permissions import permission_required
from coordination.selectors import people as people_selectors
from coordination.services import notifications


@login_required
def home(request):
    """What needs the signed-in user now, from every app they work in."""
    return render(
        request,
        "coordination/home.html",
        {
            "section": "home",
            "panels": home_panels.panels_for(request.user),
            "email_choices": [
                (EmailKind(kind).label, on)
                for kind, on in notifications.preferences_of(request.user).items()
            ],
        },
    )


@permission_required("coordination.view_user")
def team(request):
    return render(
        request,
        "coordination/team.html",
        {"section": "team", "groups": people_selectors.team_by_role()},
    )


def favicon(request):
    # Resolved per request: the hashed static name only exists once collectstatic has run.
    return redirect(static("img/tandem.svg"), permanent=True)
