"""The person's own page: who they are and which e-mails Tandem sends them; and the
unsubscribe link every e-mail carries (signed, works without signing in)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from coordination import home
from coordination.forms import EmailPreferencesForm
from coordination.models import EmailKind
from coordination.services import notifications


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    preferences = notifications.preferences_of(request.user)
    panels = home.titles_for(request.user)
    off = notifications.digest_panels_off(request.user)
    # Bound on every POST: all boxes unticked sends no field at all.
    data = request.POST if request.method == "POST" else None
    form = EmailPreferencesForm(
        data,
        kinds=list(preferences),
        panels=panels,
        initial={**preferences, "digest_panels": [title for title in panels if title not in off]},
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data.pop("digest_panels", None)
        notifications.email_preferences_set(
            user=request.user,
            enabled=form.cleaned_data,
            digest_panels_off=None if chosen is None else [t for t in panels if t not in chosen],
        )
        messages.success(request, "Your e-mail choices are saved.")
        return redirect("profile")
    return render(
        request,
        "coordination/profile.html",
        {"section": "profile", "form": form, "digest_hour": notifications.digest_hour()},
    )


# A mail provider's one-click unsubscribe (RFC 8058) POSTs here without a CSRF token:
# the signed token is what proves the request comes from the e-mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks (link scanners follow links in e-mails); POST switches the kind off."""
    try:
        if request.method == "POST":
            user, kind = notifications.email_unsubscribe(token=token)
        else:
            user, kind = notifications.unsubscribe_target(token)
    except ValidationError as error:
        return render(request, "400.html", {"message": error.messages[0]}, status=400)
    return render(
        request,
        "coordination/unsubscribe.html",
        {
            "done": request.method == "POST",
            "kind_label": EmailKind(kind).label,
            "email": user.email,
            "token": token,
        },
    )
