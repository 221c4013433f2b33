"""REST endpoints of the recalls app, under /api/v1/ (see incidents.py and
communication.py for the routes)."""

from rest_framework.routers import SimpleRouter

from recalls.api import communication, incidents

NESTED = r"recalls/(?P<recall_code>[^/]+)"

# SimpleRouter (no API root view): every app's router shares the /api/v1/ prefix.
router = SimpleRouter()
router.register("recalls", incidents.RecallViewSet, basename="api-recall")
router.register(f"{NESTED}/lots", incidents.LotViewSet, basename="api-recall-lot")
router.register(f"{NESTED}/tasks", communication.TaskViewSet, basename="api-recall-task")
router.register(
    f"{NESTED}/press-inquiries", communication.PressInquiryViewSet, basename="api-recall-press"
)
router.register(
    f"{NESTED}/statements", communication.StatementViewSet, basename="api-recall-statement"
)
router.register(
    f"{NESTED}/notifications",
    communication.NotificationViewSet,
    basename="api-recall-notification",
)
router.register("press-inquiries", communication.PressDeskViewSet, basename="api-press-inquiry")

urlpatterns = router.urls
