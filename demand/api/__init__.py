"""REST endpoints of the demand app, under /api/v1/."""

from rest_framework.routers import SimpleRouter

from demand.api import forecasts, launches, promotions, sales

# SimpleRouter (no API root view): every app's router shares the /api/v1/ prefix.
router = SimpleRouter()
router.register("sales-actuals", sales.SalesActualViewSet, basename="sales-actual")
# Other demand endpoints are added below.

urlpatterns: list = [
    *router.urls,
    *promotions.urlpatterns,
    *forecasts.urlpatterns,
    *launches.urlpatterns,
]
