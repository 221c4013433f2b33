"""REST endpoints of the coordination app, under /api/v1/ (coordination/urls.py).

    products/                                      GET list, POST create
    products/{sku}/                                GET, PATCH (with `version`)
    products/{sku}/specifications/                 GET list, POST draft (or proposal)
    products/{sku}/specifications/{number}/        GET
    products/{sku}/specifications/{number}/{propose,withdraw,approve,reject}/   POST
    customer-requests/                             GET list, POST log
    customer-requests/{id}/                        GET
    customer-requests/{id}/{route,start-review,answer-feasibility,quote,accept,
                            decline,resolve}/      POST (with `version`)

Thin edges: a method checks the body's shape with an input serializer, calls one
service (the same one the browser uses) or selector, and serializes the result. The
services' ValidationError, PermissionDenied and StaleEditError reach
coordination.api.support.exception_handler, which answers 400, 403 and 409 with the
JSON error body. Each viewset says which permission every action needs
(ActionPermissions); the services check the finer rules (workflow state, department).
"""

from rest_framework.routers import SimpleRouter

from coordination.api import products, requests

router = SimpleRouter()
router.register("products", products.ProductViewSet, basename="api-product")
router.register(
    r"products/(?P<product_sku>[^/]+)/specifications",
    products.SpecificationViewSet,
    basename="api-specification",
)
router.register(
    "customer-requests", requests.CustomerRequestViewSet, basename="api-customer-request"
)

urlpatterns = router.urls
