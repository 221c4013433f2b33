"""Coordination's REST layer: the endpoints for products, specifications and customer
requests (urls.py and the viewsets beside it), and what every app's API shares:
authentication by API key (auth), scopes, throttling, the error body and idempotency
(support), field types (fields) and the OpenAPI schema (schema).

Nothing is imported here, so `coordination.api.fields` and the others load alone."""
