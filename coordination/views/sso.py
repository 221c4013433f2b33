"""Single sign-on pages: the start (to the provider) and the callback (back from it).
Both answer 404 while single sign-on is off (no OIDC_ISSUER)."""

from django.conf import settings
from django.contrib import auth
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from coordination import sso


def _refused(request, refusal: sso.SignInRefused):
    return render(
        request,
        "registration/sso_refused.html",
        {"heading": refusal.heading, "message": refusal.message},
        status=refusal.status,
    )


class SignInStart(OIDCAuthenticationRequestView):
    """The library's request view (state, nonce, PKCE, a safe ?next= kept in the session),
    with the authorization endpoint looked up at the click, not at start-up."""

    def __init__(self, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = sso.endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except sso.SignInRefused as refusal:
            return _refused(request, refusal)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


@never_cache
def sign_in_callback(request):
    if not settings.OIDC_ENABLED:
        raise Http404
    try:
        user = sso.complete_sign_in(request)
    except sso.SignInRefused as refusal:
        return _refused(request, refusal)
    auth.login(request, user)
    return redirect(request.session.pop("oidc_login_next", None) or settings.LOGIN_REDIRECT_URL)
