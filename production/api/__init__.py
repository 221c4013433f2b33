"""REST endpoints of the production app, under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from production.api import (
    economics,
    inventory,
    lines,
    promises,
    quotas,
    runs,
    schedules,
    webhooks,
)

# SimpleRouter (no API root view): every app's router shares the /api/v1/ prefix.
router = SimpleRouter()
router.register(
    "inventory-positions", inventory.InventoryPositionViewSet, basename="inventory-position"
)
# Other production endpoints are added below.

urlpatterns: list = [
    *router.urls,
    *quotas.urlpatterns,
    *schedules.urlpatterns,
    *runs.urlpatterns,
    *lines.urlpatterns,
    *webhooks.urlpatterns,
    path("promises/", promises.PromiseView.as_view(), name="api-promise"),
    path(
        "promotions/<int:pk>/economics/",
        economics.PromotionEconomicsView.as_view(),
        name="api-promotion-economics",
    ),
]
