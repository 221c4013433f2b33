from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coordination.signin import AdminSignInForm, SignInView
from coordination.views import (
    calendar_feeds,
    customer_requests,
    home,
    products,
    profile,
    sso,
    timeline,
)

admin.site.site_header = "Tandem administration"
admin.site.site_title = "Tandem admin"
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("", home.home, name="home"),
    path("team/", home.team, name="team"),
    path("profile/", profile.profile, name="profile"),
    path("e-mails/unsubscribe/<str:token>/", profile.unsubscribe, name="email_unsubscribe"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/sso/start/", sso.SignInStart.as_view(), name="sso_start"),
    # The library's own name for it: it builds the redirect_uri from this URL.
    path("accounts/sso/callback/", sso.sign_in_callback, name="oidc_authentication_callback"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # A person's calendar feed: the page to get its secret address, and the feed itself.
    path("accounts/calendar/", calendar_feeds.feed_page, name="calendar_feed"),
    path("accounts/calendar/new/", calendar_feeds.feed_new_address, name="calendar_feed_new"),
    path("accounts/calendar/revoke/", calendar_feeds.feed_revoke, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", calendar_feeds.feed, name="calendar_feed_ics"),
    # Products and specifications
    path("products/", products.product_list, name="product_list"),
    path("products/new/", products.product_create, name="product_create"),
    path("products/<str:sku>/", products.product_detail, name="product_detail"),
    path("products/<str:sku>/edit/", products.product_edit, name="product_edit"),
    path("products/<str:sku>/progress/", products.product_progress, name="product_progress"),
    path(
        "products/<str:sku>/specifications/new/",
        products.specification_new,
        name="specification_new",
    ),
    path(
        "products/<str:sku>/specifications/<int:number>/",
        products.specification_detail,
        name="specification_detail",
    ),
    path(
        "products/<str:sku>/specifications/<int:number>/edit/",
        products.specification_edit,
        name="specification_edit",
    ),
    path(
        "products/<str:sku>/specifications/<int:number>/<slug:action>/",
        products.specification_action,
        name="specification_action",
    ),
    path("specifications/review/", products.review_queue, name="review_queue"),
    # Customer requests
    path("requests/", customer_requests.request_list, name="request_list"),
    path("requests/new/", customer_requests.request_log, name="request_log"),
    path("requests/mine/", customer_requests.my_requests, name="my_requests"),
    path("requests/inbox/", customer_requests.inbox, name="inbox"),
    path("requests/inbox/<slug:department>/", customer_requests.inbox, name="inbox_department"),
    path("requests/<int:pk>/", customer_requests.request_detail, name="request_detail"),
    path(
        "requests/<int:pk>/progress/", customer_requests.request_progress, name="request_progress"
    ),
    path(
        "requests/<int:pk>/quote-margin/",
        customer_requests.request_quote_margin,
        name="request_quote_margin",
    ),
    path(
        "requests/<int:pk>/<slug:action>/",
        customer_requests.request_action,
        name="request_action",
    ),
    path("voice-of-customer/", customer_requests.voice_of_customer, name="voice_of_customer"),
    path("timeline/<str:label>/<int:pk>/comment/", timeline.comment, name="timeline_comment"),
    path("", include("planning.urls")),
    path("", include("demand.urls")),
    path("", include("production.urls")),
    path("", include("recalls.urls")),
    # REST API: OpenAPI 3 schema and Swagger UI (served from drf-spectacular-sidecar,
    # no CDN: works offline). The split view serves Swagger UI's start-up script from
    # /api/docs/?script= rather than inline, and api_docs.html its page styles from a
    # file, so the page needs no exception to the Content-Security-Policy.
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="api_docs.html"),
        name="api_docs",
    ),
    path("api/v1/", include("coordination.api.urls")),
    path("api/v1/", include("demand.api")),
    path("api/v1/", include("production.api")),
    path("api/v1/", include("recalls.api")),
    path("admin/", admin.site.urls),
    path("favicon.ico", home.favicon, name="favicon"),
]

# A lost database answers 503 with Retry-After; other errors the 500 page, or the API's
# error body under /api/ (coordination/boundary.py).
handler500 = "coordination.boundary.server_error"
